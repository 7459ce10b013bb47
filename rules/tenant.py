"""Tenant and fleet rules (TEN001–TEN004): both records of a tenant, and all tenants together.

They are reported on each of the tenant's records, so every record lists every
check that concerns it.
"""

from __future__ import annotations

from auditor.config import Environment, Secret
from auditor.results import Severity
from auditor.rules.base import Outcome, Source, failed, passed, skipped
from auditor.rules.context import RecordContext, Users, fingerprint
from auditor.rules.guide import callback_url
from auditor.rules.registry import rule


@rule(
    id="TEN001", slug="both-environments", severity=Severity.INFO, source=Source.TENANT,
    title="The tenant has a stage and a live record",
    checks="The tenant file has both a stage and a live record for the tenant.",
    why="The guide recommends setting up stage first; a tenant without a live record has not gone live yet.",
    remediation="Add a [tenants.{missing}] record for {company_id} with the values from the Stripe Dashboard in "
                "{missing_mode}{when}.",
    fills=("missing", "missing_mode", "when"),
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
    fills=("stage_account", "live_account"),
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
    title="No other tenant uses the same Stripe account, secret key or signing secret",
    checks="No two tenants name the same Stripe account ID, the same secret key or the same signing secret.",
    why="A shared account mixes two merchants' payments and webhooks; usually one tenant's values were copied "
        "into another's record by mistake. The finding names the other tenant, never the secret. On a shared "
        "account each tenant's endpoint stays its own: no webhook fix edits the other tenant's endpoint.",
    remediation="{company_id} shares {what} with {others}. Check which tenant the Stripe account really belongs "
                "to and enter the other tenant's own values from its own Stripe Dashboard{signing}.",
    fills=("what", "others", "signing"),
)
def account_not_shared(ctx: RecordContext) -> Outcome:
    me = ctx.company_id
    shared: list[str] = []
    others: set[str] = set()
    account = (ctx.record.account_id or "").strip()
    for what, users in (
        (f"the Stripe account {account}", ctx.fleet.by_account.get(account, ()) if account else ()),
        ("the secret key", _users(ctx.fleet.by_secret, ctx.record.secret_key)),
        ("the signing secret", _users(ctx.fleet.by_signing_secret, ctx.record.signing_secret)),
    ):
        names = {cid for cid, _ in users if cid != me}
        if names:
            shared.append(what)
            others |= names
    if shared:
        listed = ", ".join(sorted(others))
        signing = (" (the signing secret: Workbench → Webhooks → that tenant's own endpoint → Reveal under "
                   "Signing secret)") if "the signing secret" in shared else ""
        return failed(f"{' and '.join(shared)} also used by {listed}",
                      fill={"what": " and ".join(shared), "others": listed, "signing": signing},
                      shared_with=sorted(others), shared=shared)
    return passed("no other tenant uses this account, secret key or signing secret")


def _users(index: dict[str, Users], secret: Secret | None) -> Users:
    entered = secret.reveal() if secret else ""
    if not entered.strip():
        return ()
    # the secret key index is built from the value as entered; the signing index from the stripped value
    return index.get(fingerprint(entered.strip()), ()) or index.get(fingerprint(entered), ())


@rule(
    id="TEN004", slug="signing-secrets-distinct", severity=Severity.MEDIUM, source=Source.TENANT,
    title="Stage and live carry different signing secrets",
    checks="The stage and the live record's signing secrets differ.",
    why="Each webhook endpoint has its own signing secret, and a test-mode endpoint is never the live one: the "
        "same value on both records means one was copied into the other, so plenigo rejects that environment's "
        "events. The finding never shows the secret.",
    remediation="In the Stripe Dashboard, in live mode, open the Webhooks tab of Workbench, select the endpoint "
                "{live_url}, click Reveal under Signing secret and enter it as signing_secret of the live record "
                "of {company_id}; do the same in test mode for {stage_url} and the stage record.",
    fills=("live_url", "stage_url"),
)
def signing_secrets_distinct(ctx: RecordContext) -> Outcome:
    stage, live = ctx.tenant.record(Environment.STAGE), ctx.tenant.record(Environment.LIVE)
    values = [r.signing_secret.reveal().strip() if r and r.signing_secret else "" for r in (stage, live)]
    if not all(values):
        return skipped("needs a signing secret on both a stage and a live record")
    fill = {"live_url": callback_url(ctx.company_id, Environment.LIVE),
            "stage_url": callback_url(ctx.company_id, Environment.STAGE)}
    if values[0] == values[1]:
        return failed("the stage and the live record carry the same signing secret", fill=fill)
    return passed("stage and live carry different signing secrets")
