"""ACC and KEY rules: passing, failing and the near misses copy-and-paste produces."""

from __future__ import annotations

import pytest

from auditor.evidence import Account, ErrorKind
from tests.rules.builders import (
    ACCOUNT,
    LIVE,
    STAGE,
    check,
    context,
    error,
    evidence,
    pk,
    record,
    secret,
    sk,
)


def status(rule_id: str, **record_values) -> str:
    env = record_values.pop("env", LIVE)
    return check(rule_id, context(record(env, **record_values))).status.value


# --- ACC001/ACC002 -------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_acc001_missing_account_id(value) -> None:
    assert status("ACC001", account_id=value) == "fail"
    assert status("ACC002", account_id=value) == "skipped"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (ACCOUNT + " ", "a trailing space"),
        (ACCOUNT + "\n", "a trailing newline"),
        ("acct_1AbC\u200bdEf", "a zero-width space at position 10"),
        ("acct_1AbC\u00a0dEf", "a no-break space at position 10"),
        ("\ufeff" + ACCOUNT, "a leading byte-order mark"),
        ("acct_1АbC", "cyrillic capital letter a (U+0410) at position 7"),
        ("acc_1AbCdEf", "does not start with acct_"),
        ("acct_1Ab-CdEf", "characters other than letters and digits"),
    ],
)
def test_acc002_names_the_stray_character(value, words) -> None:
    result = check("ACC002", context(record(account_id=value)))
    assert result.status.value == "fail" and words in result.message
    assert status("ACC001", account_id=value) == "pass"


def test_acc002_passes_a_clean_id() -> None:
    assert status("ACC002") == "pass"


# --- ACC003/ACC004 (Stripe) ----------------------------------------------------


def test_acc003_compares_with_the_keys_own_account() -> None:
    assert check("ACC003", context()).status.value == "pass"
    other = evidence(account=Account(id="acct_1Zzzzzzzzzzzzzzz", charges_enabled=True))
    result = check("ACC003", context(ev=other))
    assert result.status.value == "fail"
    assert "acct_1Zzzzzzzzzzzzzzz" in result.message and ACCOUNT in result.message


def test_acc003_and_acc004_error_on_403_but_webhook_rules_still_run() -> None:
    ev = evidence(account=None, account_error=error(ErrorKind.PERMISSION, 403))
    ctx = context(ev=ev)
    for rule_id in ("ACC003", "ACC004"):
        result = check(rule_id, ctx)
        assert result.status.value == "error" and "403" in result.message
    assert check("WH006", ctx).status.value == "pass"
    assert check("KEY005", ctx).status.value == "pass"  # 403 means the key was accepted


def test_acc004_inactive_live_account_lists_what_is_due() -> None:
    account = Account(id=ACCOUNT, charges_enabled=False, payouts_enabled=True, details_submitted=False,
                      requirements_due=["external_account"])
    result = check("ACC004", context(ev=evidence(account=account)))
    assert result.status.value == "fail"
    assert "charges_enabled, details_submitted" in result.message
    assert "external_account" in result.remediation


def test_acc004_each_payment_flag_alone_blocks_going_live() -> None:
    for flag in ("charges_enabled", "details_submitted"):
        values = {"charges_enabled": True, "payouts_enabled": True, "details_submitted": True, flag: False}
        result = check("ACC004", context(ev=evidence(account=Account(id=ACCOUNT, **values))))
        assert result.status.value == "fail" and flag in result.message, flag
    active = Account(id=ACCOUNT, charges_enabled=True, payouts_enabled=True, details_submitted=True)
    assert check("ACC004", context(ev=evidence(account=active))).status.value == "pass"


def test_payouts_off_is_acc005_medium_not_acc004() -> None:
    account = Account(id=ACCOUNT, charges_enabled=True, payouts_enabled=False, details_submitted=True)
    ctx = context(ev=evidence(account=account))
    assert check("ACC004", ctx).status.value == "pass"
    result = check("ACC005", ctx)
    assert result.status.value == "fail" and result.severity.value == "medium"
    assert "payments are taken but the money stays at Stripe" in result.message
    assert "cannot take" not in result.message


def test_acc006_past_due_and_deadline_name_fields_and_date() -> None:
    deadline = 1798761600  # 2027-01-01 00:00 UTC
    account = Account(id=ACCOUNT, charges_enabled=True, payouts_enabled=True, details_submitted=True,
                      requirements_due=["company.tax_id"], current_deadline=deadline)
    result = check("ACC006", context(ev=evidence(account=account)))
    assert result.status.value == "fail" and result.severity.value == "low"
    assert "company.tax_id" in result.message and "2027-01-01 00:00 UTC" in result.message
    assert "before 2027-01-01 00:00 UTC" in result.remediation
    past = account.model_copy(update={"past_due": ["external_account"], "current_deadline": None,
                                      "requirements_due": []})
    result = check("ACC006", context(ev=evidence(account=past)))
    assert result.status.value == "fail" and "past due: external_account" in result.message
    no_deadline = account.model_copy(update={"current_deadline": None})
    assert check("ACC006", context(ev=evidence(account=no_deadline))).status.value == "pass"


def test_older_saved_evidence_without_the_new_account_fields_still_loads() -> None:
    from auditor.evidence import RecordEvidence

    saved = evidence().model_dump(mode="json")
    for field in ("past_due", "current_deadline"):
        del saved["account"][field]
    loaded = RecordEvidence.model_validate(saved)
    assert loaded.account.past_due == [] and loaded.account.current_deadline is None
    assert check("ACC006", context(ev=loaded)).status.value == "pass"


def test_stripe_rules_skipped_when_not_asked() -> None:
    ctx = context(ev=evidence(not_asked="offline mode (--offline)"))
    for rule_id in ("ACC003", "KEY005", "WH002", "WH006", "WH010"):
        result = check(rule_id, ctx)
        assert result.status.value == "skipped" and "offline" in result.message


# --- KEY001–KEY004 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "verdict", "words"),
    [
        (None, "fail", "no publishable key"),
        (pk(LIVE) + "\n", "fail", "a trailing newline"),
        (" " + pk(LIVE), "fail", "a leading space"),
        (pk(LIVE)[:20] + "\u200b" + pk(LIVE)[20:], "fail", "a zero-width space"),
        (pk(LIVE)[:-1] + "\u0430", "fail", "cyrillic small letter a (U+0430)"),  # a look-alike of "a"
        ("sk_live_" + "x" * 30, "fail", "not pk_"),
        (pk(LIVE), "pass", "well-formed"),
    ],
)
def test_key001_publishable_key_format(value, verdict, words) -> None:
    result = check("KEY001", context(record(publishable_key=value)))
    assert (result.status.value, words in result.message) == (verdict, True), result.message


def test_key002_test_key_on_live_and_live_key_on_stage() -> None:
    result = check("KEY002", context(record(LIVE, publishable_key=pk(STAGE))))
    assert result.status.value == "fail"
    assert "stage publishable key" in result.message and "live record" in result.message
    assert check("KEY002", context(record(STAGE, publishable_key=pk(LIVE)))).status.value == "fail"
    assert check("KEY002", context(record(STAGE))).status.value == "pass"
    assert check("KEY002", context(record(publishable_key=None))).status.value == "skipped"


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(None, "fail"), (sk(LIVE) + " ", "fail"), ("\ufeff" + sk(LIVE), "fail"), (sk(LIVE)[:-1] + "\u00a0", "fail"),
     ("pk_live_" + "x" * 30, "fail"), (sk(LIVE), "pass"),
     (sk(LIVE, kind="rk"), "pass")],
)
def test_key003_secret_key_format(value, verdict) -> None:
    rec = record(secret_key=secret(value) if value is not None else None)
    result = check("KEY003", context(rec))
    assert result.status.value == verdict
    if value:
        assert value.strip() not in result.message  # only ever masked


def test_key004_environments() -> None:
    result = check("KEY004", context(record(LIVE, secret_key=secret(sk(STAGE)))))
    assert result.status.value == "fail" and "stage secret key (sk_test_…" in result.message
    assert "live mode" in result.remediation and "stored when it was created" in result.remediation
    assert "Reveal live key" not in result.remediation  # Stripe shows a live key only once
    assert check("KEY004", context(record(STAGE, secret_key=secret(sk(STAGE, kind="rk"))))).status.value == "pass"
    on_stage = check("KEY004", context(record(STAGE, secret_key=secret(sk(LIVE)))))
    assert on_stage.status.value == "fail" and "Reveal test key" in on_stage.remediation


# --- KEY005 ----------------------------------------------------------------------


def test_key005_rejected_key_fails_and_other_stripe_rules_error() -> None:
    auth = error(ErrorKind.AUTHENTICATION, 401)
    ev = evidence(account=None, webhook_endpoints=None, failed_events=None, account_error=auth,
                  webhook_endpoints_error=auth, failed_events_error=auth)
    ctx = context(ev=ev)
    assert check("KEY005", ctx).status.value == "fail"
    assert check("WH006", ctx).status.value == "error" and "401" in check("WH006", ctx).message


def test_key005_network_failure_is_an_error_not_a_verdict() -> None:
    down = error(ErrorKind.CONNECTION)
    ev = evidence(account=None, webhook_endpoints=None, failed_events=None, account_error=down,
                  webhook_endpoints_error=down, failed_events_error=down)
    assert check("KEY005", context(ev=ev)).status.value == "error"


# --- KEY006–KEY008 ---------------------------------------------------------------


def test_key006_keys_of_one_account() -> None:
    assert status("KEY006") == "pass"
    other = "acct_1Zzzzzzzzzzzzzzz"
    result = check("KEY006", context(record(publishable_key=pk(LIVE, other))))
    assert result.status.value == "fail" and other in result.message and ACCOUNT in result.message
    assert status("KEY006", account_id="acct_1Yyyyyyyyyyyyyyy") == "fail"
    result = check("KEY006", context(record(secret_key=secret(sk(LIVE, other)))))  # only the secret key differs
    assert result.status.value == "fail" and f"secret key: {other}" in result.message


def test_key006_skipped_for_old_short_keys() -> None:
    old = record(publishable_key="pk_live_" + "a" * 24, secret_key=secret("sk_live_" + "b" * 24))
    assert check("KEY006", context(old)).status.value == "skipped"


def test_key007_inline_secrets() -> None:
    result = check("KEY007", context(record(secret_key=secret(sk(LIVE), origin="inline"))))
    assert result.status.value == "fail" and "secret_key" in result.message
    assert status("KEY007") == "pass"


def test_key008_restricted_key() -> None:
    result = check("KEY008", context(record(secret_key=secret(sk(LIVE, kind="rk")))))
    assert result.status.value == "fail" and "rk_live_…" in result.message
    assert status("KEY008") == "pass"


def test_every_error_kind_has_a_fix_and_a_403_names_stripes_permission() -> None:
    from auditor.evidence import FetchError
    from auditor.rules.errors import error_fix

    ctx = context()
    for kind in ErrorKind:
        assert error_fix(FetchError(kind=kind, message="x"), ctx), kind
    message = ("The provided key 'rk_live_…abcd' does not have the required permissions for this endpoint. Having "
               "the 'rak_webhook_read' permission would allow this request to continue.")
    fix = error_fix(FetchError(kind=ErrorKind.PERMISSION, message=message, path="/v1/webhook_endpoints"), ctx)
    assert "rak_webhook_read" in fix and "standard secret key" in fix
    rejected = error_fix(FetchError(kind=ErrorKind.AUTHENTICATION, message="x"), ctx)
    assert "Reveal live key" not in rejected and "roll it" in rejected
    stage = error_fix(FetchError(kind=ErrorKind.AUTHENTICATION, message="x"), context(record(STAGE)))
    assert "Reveal test key" in stage


def test_error_checks_carry_the_fix_of_their_cause() -> None:
    ev = evidence(account=None, account_error=error(ErrorKind.CONNECTION))
    result = check("ACC003", context(ev=ev))
    assert result.status.value == "error" and "--stripe-api-base" in result.remediation


def test_acc006_deadline_already_passed_says_so_not_before_a_past_date() -> None:
    """Evidence collected after the deadline: "provide it before <a date gone by>" is no step to follow."""
    deadline = 1763856000  # 2025-11-23 00:00 UTC, a year before the builders' collection time
    account = Account(id=ACCOUNT, charges_enabled=True, payouts_enabled=True, details_submitted=True,
                      requirements_due=["company.tax_id"], current_deadline=deadline)
    result = check("ACC006", context(ev=evidence(account=account)))
    assert result.status.value == "fail" and "passed" in result.message
    assert "before 2025-11-23" not in result.remediation
    assert "2025-11-23 00:00 UTC has passed" in result.remediation


def test_a_403_on_a_standard_secret_key_does_not_send_anyone_to_edit_a_restricted_key() -> None:
    """A standard sk_live_ key answered 403 (e.g. the account is closed or was rejected): the record holds no
    restricted key, so "edit the restricted key and grant a permission" is a step that cannot be followed."""
    from auditor.evidence import FetchError
    from auditor.rules.errors import error_fix

    ctx = context()  # the builders' record holds a standard sk_live_ key
    fix = error_fix(FetchError(kind=ErrorKind.PERMISSION, message="x", path="/v1/account"), ctx)
    assert "restricted key" not in fix and "standard secret key" in fix and "support" in fix
    restricted = context(record(secret_key=secret(sk(LIVE, kind="rk"))))
    assert "edit the restricted key" in error_fix(FetchError(kind=ErrorKind.PERMISSION, message="x"), restricted)
