"""Registering a rule, and the check of its metadata that a bad rule cannot get past.

``@rule(...)`` turns a function into a catalogue entry. Every entry is checked
when it is registered, so a typo in a new rule fails the import with the rule
and the problem named, instead of a report that silently shows ``<name>``:
the ID pattern, unique IDs and slugs, a known severity and source, a known
context (the evidence names it reads), and remediation placeholders that the
engine or the rule fills.
"""

from __future__ import annotations

import inspect
import re
import string
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from auditor.config import Environment
from auditor.evidence import Part
from auditor.results import Severity
from auditor.rules.base import BOTH, Outcome, Rule, Source
from auditor.rules.context import CONTEXTS, ENGINE_PLACEHOLDERS, RecordContext, StripeContext

F = TypeVar("F", bound=Callable[[Any], Outcome])

REGISTRY: dict[str, Rule] = {}

_ID = re.compile(r"(ACC|KEY|WH|TEN)[0-9]{3}")  # fullmatch: `$` would let a final newline pass
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class RuleDefinitionError(ValueError):
    """A rule's metadata is wrong; the message names the rule and every problem found."""


def rule(
    *,
    id: str,
    slug: str,
    severity: Severity,
    source: Source,
    title: str,
    checks: str,
    why: str,
    remediation: str,
    environments: frozenset[Environment] = BOTH,
    fills: tuple[str, ...] = (),
    handles_errors: bool = False,
    mode_bound: bool = False,
    registry: dict[str, Rule] | None = None,
) -> Callable[[F], F]:
    """Register the decorated function as a rule with this metadata (in ``registry``, default the catalogue).

    The function's one argument is annotated with the context it reads (``RecordContext``,
    ``AccountContext``, …); ``fills`` names the placeholders its outcomes fill in.
    """

    def register(func: F) -> F:
        target = REGISTRY if registry is None else registry
        entry = Rule(
            id=id, slug=slug, severity=severity, source=source, environments=environments, title=title,
            checks=checks, why=why, remediation=remediation, check=func, context=_context_of(id, func),
            fills=frozenset(fills), handles_errors=handles_errors, mode_bound=mode_bound,
        )
        problems = metadata_problems(entry, target.values())
        if problems:
            raise RuleDefinitionError(f"rule {id} ({func.__module__}.{func.__name__}): " + "; ".join(problems))
        target[id] = entry
        return func

    return register


def _context_of(rule_id: str, func: Callable[..., Any]) -> type[RecordContext]:
    """The context class the rule's one argument is annotated with."""
    params = list(inspect.signature(func).parameters)
    try:
        hint = typing.get_type_hints(func).get(params[0]) if len(params) == 1 else None
    except NameError as exc:  # the annotation names a class its module does not hold
        raise RuleDefinitionError(f"rule {rule_id} ({func.__module__}.{func.__name__}): its argument's type "
                                  f"cannot be resolved ({exc})") from exc
    if not (isinstance(hint, type) and issubclass(hint, RecordContext)):
        raise RuleDefinitionError(f"rule {rule_id} ({func.__module__}.{func.__name__}): its function must take "
                                  "one argument annotated with the context it reads (RecordContext, "
                                  "AccountContext, EndpointsContext, DeliveriesContext or StripeContext)")
    return hint


def metadata_problems(entry: Rule, registered: typing.Iterable[Rule] = ()) -> list[str]:
    """Everything wrong with one rule's metadata, given the rules registered before it."""
    others = [r for r in registered if r is not entry]
    return [*_identity_problems(entry, others), *_kind_problems(entry), *_text_problems(entry)]


def _identity_problems(entry: Rule, others: list[Rule]) -> list[str]:
    problems = []
    if not _ID.fullmatch(entry.id):
        problems.append(f"the ID {entry.id!r} is not ACC, KEY, WH or TEN followed by 3 digits")
    if any(r.id == entry.id for r in others):
        problems.append(f"the ID {entry.id} is defined twice")
    if not _SLUG.fullmatch(entry.slug):
        problems.append(f"the slug {entry.slug!r} is not lower-case words joined by hyphens")
    clash = next((r.id for r in others if r.slug == entry.slug), None)
    if clash:
        problems.append(f"the slug {entry.slug!r} is already {clash}'s")
    return problems


def _kind_problems(entry: Rule) -> list[str]:
    problems = []
    if not isinstance(entry.severity, Severity):
        problems.append(f"the severity {entry.severity!r} is not one of {', '.join(s.value for s in Severity)}")
    if not isinstance(entry.source, Source):
        problems.append(f"the source {entry.source!r} is not one of {', '.join(s.value for s in Source)}")
    if not entry.environments or not all(isinstance(e, Environment) for e in entry.environments):
        problems.append("its environments are not a non-empty set of Environment")
    if entry.context not in CONTEXTS:
        problems.append(f"it reads {entry.context.__name__}, which is not a rule context")
    unknown = [str(n) for n in entry.context.NEEDS if not isinstance(n, Part)]
    if unknown:
        problems.append(f"it needs unknown evidence {', '.join(unknown)} (known: {', '.join(p.value for p in Part)})")
    stripe = issubclass(entry.context, StripeContext)
    if (entry.source is Source.STRIPE) != stripe:
        problems.append("a Stripe rule reads a Stripe context (AccountContext, …), and only a Stripe rule does"
                        f" (source {getattr(entry.source, 'value', entry.source)}, reads {entry.context.__name__})")
    if (entry.handles_errors or entry.mode_bound) and not stripe:
        problems.append("handles_errors and mode_bound are for Stripe rules only")
    return problems


def _placeholders(template: str) -> set[str]:
    """Every field a template formats, those nested in a format spec too (``{x:>{width}}`` uses width)."""
    used: set[str] = set()
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is not None:
            used.add(name)
        if spec:
            used |= _placeholders(spec)
    return used


def _text_problems(entry: Rule) -> list[str]:
    problems = [f"its {name} is empty" for name in ("title", "checks", "why", "remediation")
                if not str(getattr(entry, name)).strip()]
    try:
        used = _placeholders(entry.remediation)
    except ValueError as exc:
        return problems + [f"its remediation is not a valid template ({exc})"]
    odd = sorted(n for n in used if not _NAME.fullmatch(n))
    if odd:
        problems.append(f"its remediation has placeholders that are not plain names: {odd}")
    unknown = sorted(used - ENGINE_PLACEHOLDERS - entry.fills - set(odd))
    if unknown:
        problems.append(f"its remediation uses {{{'}, {'.join(unknown)}}}, which neither the engine supplies nor "
                        "the rule declares in fills")
    unused = sorted(entry.fills - used)
    if unused:
        problems.append(f"it declares fills {unused} that its remediation does not use")
    shadowed = sorted(entry.fills & ENGINE_PLACEHOLDERS)
    if shadowed:
        problems.append(f"its fills {shadowed} would replace placeholders the engine supplies")
    return problems
