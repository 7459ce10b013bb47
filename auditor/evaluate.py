"""Evaluation: every applicable rule over one record's context, pure and total.

The engine decides the statuses that do not depend on a rule's logic: a Stripe
rule is ``skipped`` when Stripe was not asked and ``error`` when the answer it
needs failed. A rule that raises is reported as that check's ``error``; it
never stops the other checks or the fleet.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from auditor.results import CheckResult, CheckStatus, EndpointRole, RecordResult, RuleInfo
from auditor.rules import all_rules
from auditor.rules.base import Outcome, RecordContext, Rule, Source, errored, skipped
from auditor.rules.context import MissingEvidence
from auditor.rules.endpoints import choose_endpoint, owner, points_at_plenigo
from auditor.rules.errors import describe, error_fix
from auditor.rules.keys import wrong_mode_key

__all__ = ["Bindings", "describe", "evaluate_record", "run_rule"]

log = logging.getLogger(__name__)

C = TypeVar("C", bound=RecordContext)


class Bindings:
    """One record's context in each kind the rules read (bound once per record, not once per rule)."""

    def __init__(self, ctx: RecordContext):
        self.ctx = ctx
        self._bound: dict[type[RecordContext], RecordContext] = {}

    def of(self, kind: type[C]) -> C:
        """``ctx`` as a ``kind``; raises MissingEvidence when an answer that kind carries is absent."""
        found = self._bound.get(kind)
        if not isinstance(found, kind):
            found = self._bound[kind] = kind.bind(self.ctx)
        return found


def evaluate_record(ctx: RecordContext, rules: list[Rule] | None = None) -> RecordResult:
    """Run every rule that applies to this record's environment."""
    bindings = Bindings(ctx)
    checks = [run_rule(rule, ctx, bindings) for rule in (rules or all_rules()) if rule.applies_to(ctx.environment)]
    evidence = ctx.evidence
    errors = evidence.errors() if evidence else []
    return RecordResult(
        company_id=ctx.company_id,
        tenant=ctx.tenant.name,
        environment=ctx.environment.value,
        status=RecordResult.status_of(checks),
        checks=checks,
        error=describe(errors[0]) if errors else None,
        evidence=evidence,
        endpoint_roles=endpoint_roles(ctx),
    )


def run_rule(rule: Rule, ctx: RecordContext, bindings: Bindings | None = None) -> CheckResult:
    outcome = _precondition(rule, ctx) or _judge(rule, bindings or Bindings(ctx))
    return CheckResult(
        rule=rule.id,
        slug=rule.slug,
        severity=rule.severity,
        title=rule.title,
        status=outcome.status,
        message=outcome.message,
        details=outcome.details,
        remediation=_remediation(rule, ctx, outcome),
    )


def _judge(rule: Rule, bindings: Bindings) -> Outcome:
    """The rule's own verdict, given the context it reads; its failure is this check's ``error``."""
    try:
        bound = bindings.of(rule.context)
    except MissingEvidence as exc:  # evidence without the answer and without the reason (a hand-edited file)
        return errored(str(exc))
    try:
        return rule.check(bound)
    except Exception as exc:  # a bug in one rule must not hide the others
        log.exception("rule %s raised", rule.id)
        return errored(f"the rule itself failed ({type(exc).__name__}); please report this")


def _remediation(rule: Rule, ctx: RecordContext, outcome: Outcome) -> str | None:
    """The rule's fix for a failure; for an error, the fix of the reason Stripe could not be asked."""
    if outcome.status is CheckStatus.FAIL:
        return rule.remediation_for(ctx, outcome)
    if outcome.status is CheckStatus.ERROR and ctx.evidence is not None:
        needed = [ctx.evidence.error_for(part) for part in rule.needs]
        error = next((e for e in needed if e is not None), None) or next(iter(ctx.evidence.errors()), None)
        return error_fix(error, ctx) if error is not None else None
    return None


def _precondition(rule: Rule, ctx: RecordContext) -> Outcome | None:
    """skipped/error for a Stripe rule whose evidence is absent, of the wrong mode or failed, else None."""
    evidence = ctx.evidence
    if rule.source is not Source.STRIPE:
        return None
    if evidence is None:
        return skipped("Stripe was not asked")
    if evidence.not_asked:
        return skipped(f"Stripe was not asked: {evidence.not_asked}")
    wrong_mode = wrong_mode_key(ctx) if rule.mode_bound else None
    if wrong_mode:
        return skipped(wrong_mode, see="KEY004")
    if rule.handles_errors:
        return None
    for part in rule.needs:
        error = evidence.error_for(part)
        if error is not None:
            return errored(describe(error), error_kind=error.kind.value, http_status=error.http_status)
    return None


# --- Facts for the renderers -------------------------------------------------------------------------------
# Reports render from results.json alone (issue 12): what they show of the catalogue and of the engine's
# judgement travels in the results, so a renderer never asks the installed rules again.


def rule_catalogue(rules: list[Rule] | None = None) -> dict[str, RuleInfo]:
    """Rule ID → the metadata the reports show (title, severity, generic steps to fix)."""
    return {r.id: RuleInfo(slug=r.slug, severity=r.severity, title=r.title, steps=r.remediation_template())
            for r in (rules or all_rules())}


def endpoint_roles(ctx: RecordContext) -> dict[str, EndpointRole] | None:
    """How each webhook endpoint was judged: the one the webhook rules judge, plenigo's others, the merchant's."""
    endpoints = ctx.evidence.webhook_endpoints if ctx.evidence is not None else None
    if endpoints is None:
        return None
    taken = ctx.taken_urls
    chosen = choose_endpoint(endpoints, ctx.company_id, ctx.environment, taken)
    roles: dict[str, EndpointRole] = {}
    for endpoint in endpoints:
        if chosen is not None and endpoint.id == chosen.id:
            roles[endpoint.id] = EndpointRole.CHOSEN
        elif not points_at_plenigo(endpoint):
            roles[endpoint.id] = EndpointRole.ELSEWHERE
        else:
            roles[endpoint.id] = EndpointRole.OTHER_TENANT if owner(endpoint, taken) else EndpointRole.CANDIDATE
    return roles
