"""Tenant and fleet rules (TEN001–TEN003): both records of a tenant, and all tenants together.

They are reported on each of the tenant's records, so every record lists every
check that concerns it.
"""

from __future__ import annotations

from auditor.config import Environment
from auditor.results import Severity
from rules.base import Outcome, RecordContext, Source, failed, fingerprint, passed, rule, skipped


@rule(
    id="TEN001", slug="both-environments", severity=Severity.INFO, source=Source.TENANT,
    title="The tenant has a stage and a live record",
    checks="The tenant file has both a stage and a live record for the tenant.",
    why="The guide recommends setting up stage first; a tenant without a live record has not gone live yet.",
    remediation="Add a [tenants.{missing}] record for {company_id} with the values from the Stripe Dashboard in "
                "{missing_mode}{when}.",
)
def both_environments(ctx: RecordContext) -> Outcome:
    missing = [env for env in Environment if ctx.tenant.record(env) is None]
    if missing:
        env = missing[0]
        if env is Environment.STAGE:
            mode = "test mode (slider orange)"
            when = ", so that changes can be tried in test mode before they reach live"
        else:
            mode, when = "live mode (slider grey)", " when the tenant goes live"
        return failed(f"the tenant has no {env.value} record", missing=env.value,
                      fill={"missing": env.value, "missing_mode": mode, "when": when})
    return passed("the tenant has a stage and a live record")


@rule(
    id="TEN002", slug="same-account-both-environments", severity=Severity.MEDIUM, source=Source.TENANT,
    title="Stage and live use one Stripe account",
    checks="The stage and live records name the same Stripe account ID (test and live mode of one account).",
    why="Stage is meant to test exactly the account that goes live; two accounts mean live was never tested.",
    remediation="The stage record names {stage_account}, the live record {live_account}. Use the test mode and the "
                "live mode of the merchant's one Stripe account: copy the account ID (gear → Profile → bottom of "
                "the page → Accounts) and the keys of the right account into both records of {company_id}.",
)
def same_account_both_environments(ctx: RecordContext) -> Outcome:
    stage, live = ctx.tenant.record(Environment.STAGE), ctx.tenant.record(Environment.LIVE)
    ids = [(r.account_id or "").strip() if r else "" for r in (stage, live)]
    if not all(ids):
        return skipped("needs an account ID on both a stage and a live record")
    if ids[0] != ids[1]:
        return failed(f"stage uses {ids[0]} but live uses {ids[1]}",
                      fill={"stage_account": ids[0], "live_account": ids[1]}, stage=ids[0], live=ids[1])
    return passed(f"stage and live both use {ids[0]}")


@rule(
    id="TEN003", slug="account-not-shared", severity=Severity.MEDIUM, source=Source.FLEET,
    title="No other tenant uses the same Stripe account or secret key",
    checks="No two tenants name the same Stripe account ID or the same secret key.",
    why="A shared account mixes two merchants' payments and webhooks; usually one tenant's values were copied "
        "into another's record by mistake.",
    remediation="{company_id} shares {what} with {others}. Check which tenant the Stripe account really belongs "
                "to and enter the other tenant's own account ID and keys (from its own Stripe Dashboard).",
)
def account_not_shared(ctx: RecordContext) -> Outcome:
    me = ctx.company_id
    shared: list[str] = []
    others: set[str] = set()
    account = (ctx.record.account_id or "").strip()
    if account:
        users = {cid for cid, _ in ctx.fleet.by_account.get(account, ()) if cid != me}
        if users:
            shared.append(f"the Stripe account {account}")
            others |= users
    if ctx.record.secret_key:
        users = {cid for cid, _ in ctx.fleet.by_secret.get(fingerprint(ctx.record.secret_key.reveal()), ())
                 if cid != me}
        if users:
            shared.append("the secret key")
            others |= users
    if shared:
        names = ", ".join(sorted(others))
        return failed(f"{' and '.join(shared)} also used by {names}",
                      fill={"what": " and ".join(shared), "others": names}, shared_with=sorted(others))
    return passed("no other tenant uses this account or secret key")
