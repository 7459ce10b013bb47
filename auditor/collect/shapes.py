"""The types Stripe documents for the fields the auditor reads, checked before evidence is built.

Without this, a field of the wrong type is silently reshaped: ``list("charge.dispute.created")``
is 22 one-letter "events", and pydantic turns ``"1"`` into ``True``. A wrong type is an
unreadable answer (``invalid_response``) for that read, named by field, never a guess.
Pure: no I/O. A spec maps a field to a :class:`Kind`, or to a nested spec for an object
that may also be null; a missing field is left to the builder (absent is not a wrong type).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union


class WrongType(TypeError):
    """A field of Stripe's answer is not of the type Stripe documents for it."""


@dataclass(frozen=True)
class Kind:
    """What a field must be: a check, and its name for the message."""

    name: str
    ok: Callable[[Any], bool]


def _plain(kind: type) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, kind) and (kind is bool or not isinstance(v, bool))  # True is no int


def _or_null(kind: Kind) -> Kind:
    return Kind(f"{kind.name} or null", lambda v: v is None or kind.ok(v))


STRING = Kind("a string", _plain(str))
INTEGER = Kind("an integer", _plain(int))
BOOLEAN = Kind("true or false", _plain(bool))
STRINGS = Kind("a list of strings", lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v))
OPT_STRING, OPT_INTEGER, OPT_BOOLEAN, OPT_STRINGS = map(_or_null, (STRING, INTEGER, BOOLEAN, STRINGS))

Spec = dict[str, Union[Kind, "Spec"]]

ENDPOINT: Spec = {"id": STRING, "url": STRING, "status": STRING, "enabled_events": OPT_STRINGS,
                  "livemode": OPT_BOOLEAN, "description": OPT_STRING, "api_version": OPT_STRING,
                  "created": OPT_INTEGER}
EVENT: Spec = {"id": STRING, "type": STRING, "created": INTEGER, "pending_webhooks": OPT_INTEGER,
               "livemode": OPT_BOOLEAN}
ACCOUNT: Spec = {"id": STRING, "charges_enabled": OPT_BOOLEAN, "payouts_enabled": OPT_BOOLEAN,
                 "details_submitted": OPT_BOOLEAN, "country": OPT_STRING,
                 "business_profile": {"name": OPT_STRING},
                 "settings": {"dashboard": {"display_name": OPT_STRING}},
                 "requirements": {"currently_due": OPT_STRINGS, "past_due": OPT_STRINGS,
                                  "disabled_reason": OPT_STRING, "current_deadline": OPT_INTEGER}}


def require(raw: Any, spec: Spec, where: str = "") -> None:
    """Raise :class:`WrongType` naming the first field of ``raw`` whose type ``spec`` does not allow."""
    if not isinstance(raw, dict):
        raise WrongType(f"{where.rstrip('.') or 'the object'} is {_name_of(raw)}, not an object")
    for field, kind in spec.items():
        if field not in raw:
            continue
        value = raw[field]
        if isinstance(kind, dict):
            if value is not None:
                require(value, kind, f"{where}{field}.")
        elif not kind.ok(value):
            raise WrongType(f"the field {where}{field} is {_name_of(value)}, not {kind.name}")


def _name_of(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list",
             dict: "an object", type(None): "null"}
    return names.get(type(value), "of another type")
