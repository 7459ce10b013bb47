"""What a run checks before auditing anything, so that its exit code cannot lie.

A selection that matches no record has audited nothing: exit 2 saying why,
never a green 0. A Stripe that cannot be reached at all is one message naming
the host and the ways out, exit 3, instead of one identical error per record.
Unknown tenant IDs and rule names are usage problems with a suggestion.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.app.errors import StripeUnreachable, UsageProblem
from auditor.config import Environment, Tenant
from auditor.rules import all_rules, get_rule
from auditor.suggest import did_you_mean


def unknown_tenants_message(unknown: Iterable[str], tenants: list[Tenant], config: object) -> str:
    """``no tenant with company_id 'x' in tenants.toml (did you mean 'X'?)``, one line per unknown ID."""
    known = [t.company_id for t in tenants]
    return "\n".join(f"no tenant with company_id {cid!r} in {config}{did_you_mean(cid, known)}" for cid in unknown)


def why_nothing_selected(tenants: list[Tenant], environments: tuple[Environment, ...], config: object,
                         named: bool) -> str:
    """Why the chosen tenants and environments hold no record to audit."""
    if not tenants:
        return f"{config} holds no tenants (add a [[tenants]] table)"
    envs = " or ".join(e.value for e in environments)
    if len(tenants) == 1 or named:
        have = {t.company_id: ", ".join(e.value for e in Environment if t.record(e)) or "none" for t in tenants}
        listed = "; ".join(f"tenant {cid} has no {envs} record (records: {h})" for cid, h in have.items())
        return f"{listed}; choose another --env"
    return f"no tenant in {config} has a {envs} record; choose another --env"


def check_stripe_reachable(api_base: str, timeout: float) -> None:
    """Stop with :class:`StripeUnreachable` when nothing answers at ``api_base``."""
    from auditor.collect.reachable import host_of, unreachable_reason

    reason = unreachable_reason(api_base, timeout)
    if reason is None:
        return
    raise StripeUnreachable(
        f"Stripe cannot be reached at {host_of(api_base)} ({reason}); nothing was audited and no report was written.\n"
        "Ways out:\n"
        "  - check the network, or set the proxy: HTTPS_PROXY=https://proxy:port"
        " (NO_PROXY lists hosts to reach directly)\n"
        "  - --stripe-api-base URL (or STRIPE_API_BASE): a reachable Stripe-compatible server\n"
        "  - --offline: only the record, tenant and fleet rules, Stripe not asked\n"
        "  - --evidence DIR: re-audit evidence saved earlier with --save-evidence")


def unknown_rule_message(rule_id: str) -> str:
    """``no rule 'wh06' (did you mean 'WH006'?)``: IDs and slugs both count as near misses."""
    known = [name for r in all_rules() for name in (r.id, r.slug)]
    return f"no rule {rule_id!r}{did_you_mean(rule_id, known)}; `audit rules` lists them all"


def resolve_rules(names: Iterable[str]) -> list[str]:
    """The rule IDs that ``--rule`` names (ID or slug); an unknown one is a usage problem with a suggestion."""
    found = []
    for name in names:
        rule = get_rule(name)
        if rule is None:
            raise UsageProblem(unknown_rule_message(name), option="--rule")
        found.append(rule.id)
    return found
