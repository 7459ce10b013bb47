"""Account rules (ACC001–ACC004): the Stripe account ID in the record, and the account itself."""

from __future__ import annotations

import re

from auditor.results import Severity
from rules.base import LIVE_ONLY, Outcome, RecordContext, Source, failed, passed, rule, skipped
from rules.text import stray_characters

_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]+$")

_FIND_ACCOUNT_ID = (
    "In the Stripe Dashboard, in {mode}, click the gear symbol in the right-hand corner, then Profile, scroll to "
    "the very bottom of the page: the ID is listed under Accounts (it looks like acct_1Orl9EJ3ssjaD455). "
)


@rule(
    id="ACC001", slug="account-id-present", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The record has a Stripe account ID",
    checks="The record's account_id is set and not empty.",
    why="plenigo identifies the merchant's Stripe account by this ID; without it the connection cannot be set up.",
    remediation=_FIND_ACCOUNT_ID + "Enter it as account_id of the {environment} record of {company_id}.",
)
def account_id_present(ctx: RecordContext) -> Outcome:
    if ctx.record.account_id is None or not ctx.record.account_id.strip():
        return failed("the record has no Stripe account ID")
    return passed(f"account ID {ctx.record.account_id.strip()}")


@rule(
    id="ACC002", slug="account-id-format", severity=Severity.HIGH, source=Source.RECORD,
    title="The account ID is acct_ followed by letters and digits",
    checks="account_id is `acct_` followed by ASCII letters and digits only: no spaces, no invisible characters.",
    why="An ID with a stray space or an invisible character copied from a web page names no account at all.",
    remediation=_FIND_ACCOUNT_ID + "Copy it again and enter it as account_id of the {environment} record of "
                "{company_id}, without spaces or other characters: {problem}.",
)
def account_id_format(ctx: RecordContext) -> Outcome:
    value = ctx.record.account_id
    if value is None or not value.strip():
        return skipped("no account ID (ACC001)")
    stray = stray_characters(value)
    if stray:
        return failed(f"the account ID contains {stray}", fill={"problem": f"it contains {stray}"},
                      found=repr(value))
    if not _ACCOUNT_ID.match(value):
        problem = "it does not start with acct_" if not value.startswith("acct_") else \
            "it has characters other than letters and digits after acct_"
        return failed(f"the account ID {value!r} is not acct_ followed by letters and digits: {problem}",
                      fill={"problem": problem}, found=value)
    return passed(f"{value} has the form acct_…")


@rule(
    id="ACC003", slug="account-id-matches-stripe", severity=Severity.CRITICAL, source=Source.STRIPE,
    title="The account ID is the secret key's own account",
    checks="The account that the secret key belongs to (GET /v1/account) has the record's account ID.",
    why="A mismatch means the keys and the ID were copied from two different Stripe accounts: payments and "
        "webhooks would land in one account while plenigo looks in the other.",
    remediation="The secret key belongs to Stripe account {stripe_account}, the record says {account_id}. "
                "Decide which account is the merchant's; then, in that account's Dashboard, in {mode}, copy the "
                "account ID (gear → Profile → bottom of the page → Accounts) and the keys (Developers → API keys) "
                "into the {environment} record of {company_id} again.",
    needs=("account",),
)
def account_id_matches_stripe(ctx: RecordContext) -> Outcome:
    record_id = (ctx.record.account_id or "").strip()
    stripe_id = ctx.evidence.account.id
    if not record_id:
        return skipped(f"no account ID in the record (ACC001); the key belongs to {stripe_id}", stripe_account=stripe_id)
    if record_id != stripe_id:
        return failed(f"the secret key belongs to {stripe_id}, not to {record_id}",
                      fill={"stripe_account": stripe_id}, expected=record_id, found=stripe_id)
    return passed(f"the secret key belongs to {stripe_id}")


@rule(
    id="ACC004", slug="account-can-go-live", severity=Severity.HIGH, source=Source.STRIPE,
    environments=LIVE_ONLY,
    title="The live Stripe account can take charges and pay out",
    checks="charges_enabled, payouts_enabled and details_submitted are all true for the live account.",
    why="An account that Stripe has not activated cannot take live payments: checkouts fail for every customer.",
    remediation="In the Stripe Dashboard (live mode) complete the account activation: Stripe lists what is "
                "missing under Settings → Business details (currently: {missing}). Until then the account "
                "cannot take charges or receive payouts.",
    needs=("account",),
)
def account_can_go_live(ctx: RecordContext) -> Outcome:
    account = ctx.evidence.account
    flags = {"charges_enabled": account.charges_enabled, "payouts_enabled": account.payouts_enabled,
             "details_submitted": account.details_submitted}
    off = [name for name, value in flags.items() if value is not True]
    if off:
        due = ", ".join(account.requirements_due[:8]) or "see the Dashboard"
        reason = f" (Stripe: {account.disabled_reason})" if account.disabled_reason else ""
        return failed(f"the live account is not activated: {', '.join(off)} false{reason}",
                      fill={"missing": due}, not_enabled=off, requirements_due=account.requirements_due)
    return passed("charges and payouts are enabled and the details are submitted")
