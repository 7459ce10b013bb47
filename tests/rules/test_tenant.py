"""TEN rules: both environments, one account for both, no account or key shared across tenants."""

from __future__ import annotations

from tests.rules.builders import ACCOUNT, CID, LIVE, STAGE, check, context, record, secret, sk, tenant


def test_ten001_missing_live_record_is_info() -> None:
    rec = record(STAGE)
    result = check("TEN001", context(rec, ten=tenant(rec)))
    assert result.status.value == "fail" and result.severity.value == "info" and "no live record" in result.message
    assert f"Add a [tenants.live] record for {CID}" in result.remediation
    assert "when the tenant goes live" in result.remediation
    assert "live mode (slider grey)" in result.remediation
    both = tenant(record(STAGE), record(LIVE))
    assert check("TEN001", context(both.record(LIVE), ten=both)).status.value == "pass"


def test_ten001_missing_stage_record_asks_for_a_test_mode_record() -> None:
    rec = record(LIVE)
    result = check("TEN001", context(rec, ten=tenant(rec)))
    assert result.status.value == "fail" and "no stage record" in result.message
    assert "goes live" not in result.remediation
    assert "Add a [tenants.stage] record" in result.remediation and "test mode (slider orange)" in result.remediation


def test_ten002_stage_and_live_on_different_accounts() -> None:
    other = "acct_1Zzzzzzzzzzzzzzz"
    ten = tenant(record(STAGE), record(LIVE, account_id=other))
    result = check("TEN002", context(ten.record(LIVE), ten=ten))
    assert result.status.value == "fail" and ACCOUNT in result.message and other in result.message
    same = tenant(record(STAGE), record(LIVE))
    assert check("TEN002", context(same.record(LIVE), ten=same)).status.value == "pass"
    alone = tenant(record(LIVE))
    assert check("TEN002", context(alone.record(LIVE), ten=alone)).status.value == "skipped"


def test_ten003_shared_account_and_secret_key_name_the_other_tenant() -> None:
    mine = tenant(record(LIVE))
    theirs = tenant(record(LIVE), company_id="OTHER000000000000009")
    result = check("TEN003", context(mine.record(LIVE), ten=mine, fleet=[mine, theirs]))
    assert result.status.value == "fail"
    assert "the Stripe account" in result.message and "the secret key" in result.message
    assert "OTHER000000000000009" in result.message
    assert sk(LIVE) not in result.model_dump_json()


def test_ten003_own_stage_and_live_do_not_count() -> None:
    ten = tenant(record(STAGE), record(LIVE))
    acct = "acct_1Qqqqqqqqqqqqqqq"
    other = tenant(record(LIVE, account_id=acct, secret_key=secret(sk(LIVE, acct)),
                          signing_secret=secret("whsec_" + "q" * 32)),
                   company_id="OTHER000000000000009")
    assert check("TEN003", context(ten.record(LIVE), ten=ten, fleet=[ten, other])).status.value == "pass"
