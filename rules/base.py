"""What a rule is: a small pure function plus typed metadata.

A rule reads a context (:mod:`auditor.rules.context`: the record as entered,
the fleet around it, and for a Stripe rule the answers it needs) and returns an
:class:`Outcome`. It does no I/O. The type of its argument says what it reads;
the engine decides ``skipped``/``error`` for a Stripe rule whose evidence is
missing or failed, so a rule body only sees answers that are there.
:mod:`auditor.rules.registry` registers and validates rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from auditor.config import Environment
from auditor.evidence import Part
from auditor.results import CheckStatus, Severity
from auditor.rules.context import FleetIndex, RecordContext, Settings, fingerprint

__all__ = [
    "BOTH", "LIVE_ONLY", "FleetIndex", "Outcome", "RecordContext", "Rule", "Settings", "Source", "errored",
    "failed", "fingerprint", "passed", "skipped",
]


class Source(str, Enum):
    RECORD = "record"  # the tenant file alone
    STRIPE = "stripe"  # what Stripe answered for the record's secret key
    TENANT = "tenant"  # both records of one tenant
    FLEET = "fleet"  # all tenants together


BOTH = frozenset(Environment)
LIVE_ONLY = frozenset({Environment.LIVE})


@dataclass(frozen=True)
class Outcome:
    """What a rule found. ``fill`` adds values to the remediation template."""

    status: CheckStatus
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    fill: dict[str, str] = field(default_factory=dict)


def passed(message: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.PASS, message, details)


def failed(message: str, fill: dict[str, str] | None = None, **details: Any) -> Outcome:
    return Outcome(CheckStatus.FAIL, message, details, fill or {})


def skipped(message: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.SKIPPED, message, details)


def errored(message: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.ERROR, message, details)


@dataclass(frozen=True)
class Rule:
    """A rule's metadata and its check function; ``audit explain`` prints the metadata.

    ``check`` takes an instance of ``context`` (its argument's type); ``fills`` names the remediation
    placeholders the rule's outcomes fill in beyond the engine's own (``RecordContext.placeholders``).
    """

    id: str
    slug: str
    severity: Severity
    source: Source
    environments: frozenset[Environment]
    title: str
    checks: str
    why: str
    remediation: str
    check: Callable[[Any], Outcome]
    context: type[RecordContext] = RecordContext
    fills: frozenset[str] = frozenset()
    handles_errors: bool = False
    mode_bound: bool = False  # Stripe's answer is of the key's mode: meaningless when KEY004 fails

    @property
    def needs(self) -> tuple[Part, ...]:
        """The Stripe answers the rule reads; when one failed the engine reports ``error``."""
        return self.context.NEEDS

    def applies_to(self, env: Environment) -> bool:
        return env in self.environments

    def remediation_for(self, ctx: RecordContext, outcome: Outcome) -> str:
        values = {**ctx.placeholders(), **outcome.fill}
        return self.remediation.format_map(_Default(values))

    def remediation_template(self) -> str:
        return self.remediation.format_map(_Default())


class _Default(dict[str, str]):
    """Leaves an unknown placeholder visible as ``<name>`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"
