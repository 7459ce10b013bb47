"""A rule with bad metadata fails at registration, naming the rule and the problem; the catalogue passes.

Bad rules are registered into a throw-away registry, never the real catalogue.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from auditor.config import Environment
from auditor.evidence import Part
from auditor.results import Severity
from auditor.rules import all_rules
from auditor.rules.base import Outcome, Rule, Source, passed
from auditor.rules.context import ENGINE_PLACEHOLDERS, AccountContext, RecordContext
from auditor.rules.registry import REGISTRY, RuleDefinitionError, metadata_problems, rule
from tests.rules.builders import check, context, evidence

GOOD: dict[str, Any] = dict(
    id="WH099", slug="a-good-rule", severity=Severity.LOW, source=Source.RECORD, title="t", checks="c", why="w",
    remediation="Open {mode} for {company_id} and fix {thing}.", fills=("thing",),
)


def _record_rule(ctx: RecordContext) -> Outcome:
    return passed("fine")


def _account_rule(ctx: AccountContext) -> Outcome:
    return passed(ctx.account.id)


def _untyped(ctx):  # type: ignore[no-untyped-def]  # the point: no annotation to read the context from
    return passed("fine")


def _register(func: Any = _record_rule, registry: dict[str, Rule] | None = None, **changes: Any) -> dict[str, Rule]:
    target: dict[str, Rule] = {} if registry is None else registry
    rule(**{**GOOD, **changes}, registry=target)(func)
    return target


def _problem(func: Any = _record_rule, registry: dict[str, Rule] | None = None, **changes: Any) -> str:
    with pytest.raises(RuleDefinitionError) as raised:
        _register(func, registry, **changes)
    return str(raised.value)


def test_a_good_rule_registers_into_its_own_registry_and_not_the_catalogue() -> None:
    before = dict(REGISTRY)
    registered = _register()
    assert list(registered) == ["WH099"] and registered["WH099"].context is RecordContext
    assert before == REGISTRY


def test_the_context_a_rule_reads_comes_from_its_argument_type() -> None:
    entry = _register(_account_rule, source=Source.STRIPE, mode_bound=True)["WH099"]
    assert entry.context is AccountContext and entry.needs == (Part.ACCOUNT,)


@pytest.mark.parametrize(("changes", "words"), [
    ({"id": "WH06"}, "the ID 'WH06' is not ACC, KEY, WH or TEN followed by 3 digits"),
    ({"id": "XYZ001"}, "the ID 'XYZ001' is not ACC, KEY, WH or TEN"),
    ({"slug": "Events_Complete"}, "the slug 'Events_Complete' is not lower-case words joined by hyphens"),
    ({"slug": "trailing-"}, "the slug 'trailing-' is not lower-case"),
    ({"severity": "urgent"}, "the severity 'urgent' is not one of critical, high, medium, low, info"),
    ({"source": "stripe"}, "the source 'stripe' is not one of"),
    ({"environments": frozenset()}, "its environments are not a non-empty set"),
    ({"why": "  "}, "its why is empty"),
    ({"remediation": "Fix {thing} at {endpoint_ur}."}, "its remediation uses {endpoint_ur}, which neither"),
    ({"remediation": "Fix {thing} at {endpoint.url}."}, "placeholders that are not plain names: ['endpoint.url']"),
    ({"remediation": "Fix {thing"}, "its remediation is not a valid template"),
    ({"fills": ("thing", "unused")}, "it declares fills ['unused'] that its remediation does not use"),
    ({"remediation": "Fix {thing} in {mode}.", "fills": ("thing", "mode")}, "its fills ['mode'] would replace"),
    ({"mode_bound": True}, "handles_errors and mode_bound are for Stripe rules only"),
    ({"source": Source.STRIPE}, "a Stripe rule reads a Stripe context"),
    ({"id": "WH099\n"}, "the ID 'WH099\\n' is not ACC, KEY, WH or TEN"),  # `$` matches before a final newline
    ({"slug": "a-good-rule\n"}, "the slug 'a-good-rule\\n' is not lower-case"),
    ({"remediation": "Fix {thing:>{width}}."}, "its remediation uses {width}, which neither"),  # a nested field
    ({"remediation": "Fix {thing!r:{x.y}}."}, "placeholders that are not plain names: ['x.y']"),
])
def test_bad_metadata_fails_naming_the_rule_and_the_problem(changes: dict[str, Any], words: str) -> None:
    message = _problem(**changes)
    assert message.startswith(f"rule {changes.get('id', 'WH099')} (")
    assert "_record_rule" in message and words in message


def test_a_record_rule_that_reads_stripe_answers_is_refused() -> None:
    assert "reads AccountContext" in _problem(_account_rule, source=Source.RECORD)


def test_a_rule_without_a_typed_argument_is_refused() -> None:
    assert "must take one argument annotated with the context it reads" in _problem(_untyped)

    def unknown(ctx: Nowhere) -> Outcome:  # type: ignore[name-defined]  # noqa: F821  (the point: nobody defines it)
        return passed("fine")

    assert "its argument's type cannot be resolved (name 'Nowhere' is not defined)" in _problem(unknown)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Homemade(RecordContext):
    NEEDS = ("acount",)  # type: ignore[assignment]  # the point: a misspelt evidence name


def test_a_context_that_is_not_a_rule_context_is_refused() -> None:
    def homemade(ctx: Homemade) -> Outcome:
        return passed("fine")

    message = _problem(homemade)
    assert "it reads Homemade, which is not a rule context" in message
    assert "it needs unknown evidence acount (known: account, webhook_endpoints, failed_events)" in message


def test_ids_and_slugs_are_unique_within_a_registry() -> None:
    registry = _register()
    assert "the ID WH099 is defined twice" in _problem(registry=registry, slug="another-slug")
    assert "the slug 'a-good-rule' is already WH099's" in _problem(registry=registry, id="WH098")


def test_every_problem_is_named_at_once() -> None:
    message = _problem(id="bad", slug="Bad", remediation="{nope}", fills=())
    assert message.count(";") == 2 and "{nope}" in message


def test_the_catalogue_passes_its_own_check() -> None:
    rules = all_rules()
    for entry in rules:
        assert metadata_problems(entry, [r for r in rules if r is not entry]) == [], entry.id
    stripe = {r.id for r in rules if r.source is Source.STRIPE}
    assert {r.id for r in rules if r.needs} == stripe - {"KEY005"}  # KEY005 judges the errors themselves


def test_the_engine_supplies_exactly_the_placeholders_the_check_allows() -> None:
    assert set(context().placeholders()) == ENGINE_PLACEHOLDERS


@pytest.mark.parametrize(("part", "rule_id"), [("account", "ACC003"), ("webhook_endpoints", "WH006"),
                                               ("failed_events", "WH010")])
def test_an_answer_missing_without_a_reason_is_an_error_of_the_engine_not_of_the_rule(part: str, rule_id: str) -> None:
    ctx = context(ev=evidence(Environment.LIVE, **{part: None}))
    result = check(rule_id, ctx)
    assert result.status.value == "error"
    assert result.message == f"the evidence holds no answer for {part} and no error saying why"
