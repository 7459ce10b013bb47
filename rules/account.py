"""Account rules (ACC001–ACC006): the Stripe account ID in the record, and the account itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from auditor.results import Severity
from auditor.rules.base import LIVE_ONLY, Outcome, Source, failed, passed, skipped
from auditor.rules.context import AccountContext, RecordContext
from auditor.rules.registry import rule
from auditor.rules.text import stray_characters

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
    fills=("problem",),
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
    fills=("stripe_account",),
)
def account_id_matches_stripe(ctx: AccountContext) -> Outcome:
    record_id = (ctx.record.account_id or "").strip()
    stripe_id = ctx.account.id
    if not record_id:
        return skipped(f"no account ID in the record (ACC001); the key belongs to {stripe_id}",
                       stripe_account=stripe_id)
    if record_id != stripe_id:
        return failed(f"the secret key belongs to {stripe_id}, not to {record_id}",
                      fill={"stripe_account": stripe_id}, expected=record_id, found=stripe_id)
    return passed(f"the secret key belongs to {stripe_id}")


_ACTIVATION = ("In the Stripe Dashboard, in live mode, provide what Stripe asks for: it lists it on the home page "
               "and under Settings → Business")


def _due(fields: list[str]) -> str:
    return ", ".join(fields[:8]) + (f" and {len(fields) - 8} more" if len(fields) > 8 else "") if fields else ""


@rule(
    id="ACC004", slug="account-can-go-live", severity=Severity.HIGH, source=Source.STRIPE,
    environments=LIVE_ONLY, mode_bound=True,
    title="The live Stripe account can take payments",
    checks="charges_enabled and details_submitted are true for the live account (payouts: ACC005).",
    why="An account that Stripe has not activated cannot take live payments: checkouts fail for every customer. "
        "Only the ability to take payments is judged here; payouts are ACC005, upcoming deadlines ACC006.",
    remediation=_ACTIVATION + " ({missing}). Until then the account cannot take payments.",
    fills=("missing",),
)
def account_can_go_live(ctx: AccountContext) -> Outcome:
    account = ctx.account
    flags = {"charges_enabled": account.charges_enabled, "details_submitted": account.details_submitted}
    off = [name for name, value in flags.items() if value is not True]
    if off:
        due = _due(account.past_due + [f for f in account.requirements_due if f not in account.past_due])
        reason = f" (Stripe: {account.disabled_reason})" if account.disabled_reason else ""
        return failed(f"the live account cannot take payments: {', '.join(off)} false{reason}",
                      fill={"missing": f"currently due: {due}" if due else "Stripe lists what is missing there"},
                      not_enabled=off, requirements_due=account.requirements_due)
    return passed("the account can take payments: charges are enabled and the details are submitted")


@rule(
    id="ACC005", slug="account-payouts-enabled", severity=Severity.MEDIUM, source=Source.STRIPE,
    environments=LIVE_ONLY, mode_bound=True,
    title="The live Stripe account can pay out",
    checks="payouts_enabled is true for the live account.",
    why="Payments still work, but the money stays at Stripe until payouts are enabled; usually a bank account "
        "or a verification is missing.",
    remediation=_ACTIVATION + " ({missing}); Stripe lists the bank account for payouts under Settings → "
                "Business → Bank accounts and currencies. Payments keep working meanwhile.",
    fills=("missing",),
)
def account_payouts_enabled(ctx: AccountContext) -> Outcome:
    account = ctx.account
    if account.payouts_enabled is not True:
        due = _due(account.past_due + [f for f in account.requirements_due if f not in account.past_due])
        reason = f" (Stripe: {account.disabled_reason})" if account.disabled_reason else ""
        return failed(f"payouts are not enabled: payments are taken but the money stays at Stripe{reason}",
                      fill={"missing": f"currently due: {due}" if due else "Stripe lists what is missing there"},
                      payouts_enabled=account.payouts_enabled, requirements_due=account.requirements_due)
    return passed("payouts are enabled")


@rule(
    id="ACC006", slug="account-requirements-due", severity=Severity.LOW, source=Source.STRIPE,
    environments=LIVE_ONLY, mode_bound=True,
    title="Stripe asks for nothing with a deadline",
    checks="requirements.past_due is empty, and nothing in requirements.currently_due has a current_deadline.",
    why="Past the deadline Stripe disables charges or payouts; the finding names the fields and the deadline so "
        "the merchant can act before that happens. currently_due without a deadline is not reported (Stripe "
        "keeps the account working).",
    remediation=_ACTIVATION + ": {fields}{deadline}.",
    fills=("fields", "deadline"),
)
def account_requirements_due(ctx: AccountContext) -> Outcome:
    account = ctx.account
    deadline = account.current_deadline if account.requirements_due else None
    if not account.past_due and deadline is None:
        return passed("Stripe asks for nothing past due or with a deadline")
    parts = []
    if account.past_due:
        parts.append(f"past due: {_due(account.past_due)}")
    if deadline is not None:
        parts.append(f"currently due: {_due(account.requirements_due)}")
    when = datetime.fromtimestamp(deadline, UTC).strftime("%Y-%m-%d %H:%M UTC") if deadline else None
    # Judged at collection time: a deadline gone by is "now", never "before <a past date>".
    gone = deadline is not None and deadline <= (ctx.evidence.collected_at or ctx.settings.now).timestamp()
    by = f" (deadline {when}{', passed' if gone else ''})" if when else ""
    due = f" now (the deadline {when} has passed)" if gone else f", before {when}" if when else " now"
    return failed(f"Stripe requires information: {'; '.join(parts)}{by}",
                  fill={"fields": "; ".join(parts), "deadline": due},
                  past_due=account.past_due, currently_due=account.requirements_due, current_deadline=when)
