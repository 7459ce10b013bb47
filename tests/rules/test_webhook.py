"""WH rules: the endpoint's exact URL and its near misses, events, status, mode, uniqueness, deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auditor.evidence import Event
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from tests.rules.builders import (
    CID,
    LIVE,
    NOW,
    STAGE,
    check,
    context,
    endpoint,
    evidence,
    record,
    secret,
    sk,
    tenant,
)

GOOD_LIVE = callback_url(CID, LIVE)


def with_url(url: str, env=LIVE, fleet_ids: tuple[str, ...] = ()):
    rec = record(env)
    elsewhere = "acct_1Elsewhere000000"  # other tenants on their own accounts (same account: test_shared_*)
    fleet = [tenant(rec)] + [tenant(record(env, account_id=elsewhere, secret_key=secret(sk(env, elsewhere)),
                                           signing_secret=secret("whsec_" + c)), company_id=c) for c in fleet_ids]
    return context(rec, evidence(env, [endpoint(env, url=url)]), fleet=fleet)


# --- WH001 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "verdict", "words"),
    [(None, "fail", "no webhook signing secret"), ("whsec_abc\n", "fail", "a trailing newline"),
     ("sk_live_abcdefghijkl", "fail", "does not start with whsec_"), ("whsec_" + "a" * 32, "pass", "well-formed")],
)
def test_wh001_signing_secret(value, verdict, words) -> None:
    result = check("WH001", context(record(signing_secret=secret(value) if value else None)))
    assert result.status.value == verdict and words in result.message


# --- WH002 ---------------------------------------------------------------------


def test_wh002_no_endpoint_gives_the_guides_steps_and_skips_the_others() -> None:
    ctx = context(ev=evidence(endpoints=[endpoint(url="https://hooks.example.com/stripe")]))
    result = check("WH002", ctx)
    assert result.status.value == "fail" and "1 endpoint(s) point elsewhere" in result.message
    assert GOOD_LIVE in result.remediation and "+ Add endpoint" in result.remediation
    assert all(e in result.remediation for e in REQUIRED_EVENTS)
    for rule_id in ("WH003", "WH004", "WH005", "WH006", "WH009"):
        assert check(rule_id, ctx).status.value == "skipped"


def test_wh002_misspelt_plenigo_host_still_counts_as_meant_for_plenigo() -> None:
    ctx = with_url("https://callback.plenigo.com/callbacks/v1.0/stripe/" + CID)
    assert check("WH002", ctx).status.value == "pass"
    result = check("WH003", ctx)
    assert result.status.value == "fail" and "callback.plenigo.com instead of callbacks.plenigo.com" in result.message


# --- WH003/WH004: the near misses ---------------------------------------------


@pytest.mark.parametrize(
    ("url", "env", "rule", "words"),
    [
        (callback_url(CID, STAGE), LIVE, "WH003", "the stage host callbacks.plenigo-stage.com on the live record"),
        (GOOD_LIVE, STAGE, "WH003", "the live host callbacks.plenigo.com on the stage record"),
        (GOOD_LIVE.replace("https", "http"), LIVE, "WH003", "http instead of https"),
        (GOOD_LIVE.replace(".com/", ".com:8443/"), LIVE, "WH003", "port 8443"),
        (GOOD_LIVE + "/", LIVE, "WH004", "a trailing slash"),
        (GOOD_LIVE.replace("v1.0", "v1"), LIVE, "WH004", "the version v1 instead of v1.0"),
        (GOOD_LIVE.replace("v1.0", "v2.0"), LIVE, "WH004", "the version v2.0 instead of v1.0"),
        (GOOD_LIVE.replace(CID, CID.lower()), LIVE, "WH004", f"companyID is {CID.lower()}, in a different case"),
        (GOOD_LIVE.replace(CID, "OTHER000000000000009"), LIVE, "WH004",
         "the companyID OTHER000000000000009 instead of"),
        (GOOD_LIVE + "?mode=live", LIVE, "WH004", "a query string (?mode=live)"),
        (GOOD_LIVE.replace("/" + CID, ""), LIVE, "WH004", f"the companyID {CID} is missing"),
        (GOOD_LIVE.replace("/callbacks/", "/callback/"), LIVE, "WH004", "does not start with /callbacks/v1.0/stripe/"),
    ],
)
def test_near_misses_say_how_the_url_is_wrong(url, env, rule, words) -> None:
    result = check(rule, with_url(url, env))
    assert result.status.value == "fail", result.message
    assert words in result.message
    assert result.details["expected"] == callback_url(CID, env) and result.details["found"] == url
    assert callback_url(CID, env) in result.remediation


def test_wh004_names_another_tenants_company_id() -> None:
    other = "OTHER000000000000009"
    result = check("WH004", with_url(GOOD_LIVE.replace(CID, other), fleet_ids=(other,)))
    assert f"the companyID {other} of another tenant" in result.message


def test_exact_url_passes_host_and_path() -> None:
    ctx = with_url(GOOD_LIVE)
    assert check("WH003", ctx).status.value == "pass" and check("WH004", ctx).status.value == "pass"


def test_the_exact_endpoint_is_judged_when_a_near_miss_exists_too() -> None:
    eps = [endpoint(url=GOOD_LIVE + "/", endpoint_id="we_old"), endpoint(url=GOOD_LIVE, endpoint_id="we_good")]
    ctx = context(ev=evidence(endpoints=eps))
    assert check("WH004", ctx).status.value == "pass"
    assert check("WH008", ctx).status.value == "fail"  # both deliver to this company


# --- WH005–WH009 -----------------------------------------------------------------


def test_wh005_disabled() -> None:
    result = check("WH005", context(ev=evidence(endpoints=[endpoint(status="disabled")])))
    assert result.status.value == "fail" and "disabled" in result.message
    assert check("WH005", context()).status.value == "pass"


def test_wh006_lists_exactly_the_missing_events_in_the_guides_order() -> None:
    missing = ["charge.dispute.updated", "account.updated"]
    events = [e for e in REQUIRED_EVENTS if e not in missing]
    result = check("WH006", context(ev=evidence(endpoints=[endpoint(events=events)])))
    assert result.status.value == "fail"
    assert result.message == "2 of 15 required events are not subscribed"
    assert result.details["missing"] == ["account.updated", "charge.dispute.updated"]
    assert "- account.updated" in result.remediation and "- charge.dispute.updated" in result.remediation
    assert "payment_intent.created" not in result.remediation


@pytest.mark.parametrize("gone", REQUIRED_EVENTS)
def test_wh006_any_single_missing_event_fails(gone) -> None:
    events = [e for e in REQUIRED_EVENTS if e != gone]
    result = check("WH006", context(ev=evidence(endpoints=[endpoint(events=events)])))
    assert result.status.value == "fail" and result.details["missing"] == [gone]
    assert result.message == "1 of 15 required events is not subscribed"


def test_wh006_wildcard_passes_and_wh007_reports_it() -> None:
    ctx = context(ev=evidence(endpoints=[endpoint(events=["*"])]))
    assert check("WH006", ctx).status.value == "pass"
    extra = check("WH007", ctx)
    assert extra.status.value == "fail" and extra.severity.value == "info" and extra.details["extra"] == ["*"]


def test_wh007_extra_events_never_fail_the_record() -> None:
    from tests.rules.builders import evaluate

    ctx = context(ev=evidence(endpoints=[endpoint(events=list(REQUIRED_EVENTS) + ["invoice.paid"])]))
    result = evaluate(ctx)
    assert result.check("WH007").details["extra"] == ["invoice.paid"]
    assert result.status.value == "pass"


def test_wh008_two_endpoints_for_this_company() -> None:
    eps = [endpoint(endpoint_id="we_a"), endpoint(endpoint_id="we_b", created=1800000000)]
    result = check("WH008", context(ev=evidence(endpoints=eps)))
    assert result.status.value == "fail" and "2 enabled endpoints" in result.message
    assert "Keep the endpoint we_a" in result.remediation and "- we_b" in result.remediation


def test_wh008_other_companies_endpoints_do_not_count() -> None:
    eps = [endpoint(), endpoint(url=GOOD_LIVE.replace(CID, "OTHER000000000000009"), endpoint_id="we_x")]
    assert check("WH008", context(ev=evidence(endpoints=eps))).status.value == "pass"


def test_wh009_mode() -> None:
    result = check("WH009", context(ev=evidence(endpoints=[endpoint(livemode=False)])))
    assert result.status.value == "fail" and "test-mode endpoint on the live record" in result.message
    assert check("WH009", context(record(STAGE))).status.value == "pass"


# --- WH010 ------------------------------------------------------------------------


def test_wh010_failed_deliveries_in_the_window() -> None:
    events = [Event(id=f"evt_{i}", type="payment_intent.succeeded", created=int((NOW - timedelta(days=i)).timestamp()),
                    pending_webhooks=1) for i in (1, 2, 9)]
    result = check("WH010", context(ev=evidence(events=events)))
    assert result.status.value == "fail" and result.details["count"] == 2  # the 9-day-old one is outside
    assert "signing secret" in result.remediation
    assert check("WH010", context()).status.value == "pass"


def test_wh010_says_when_the_list_was_cut_short() -> None:
    events = [Event(id="evt_1", type="charge.dispute.created", created=int(NOW.timestamp()) - 3600)]
    result = check("WH010", context(ev=evidence(events=events, failed_events_truncated=True)))
    assert "cut short" in result.message


def test_wh010_judges_only_the_15_types_even_in_older_saved_evidence() -> None:
    """Evidence saved before the types[] filter may hold other types: they are never plenigo's failures."""
    old = [Event(id="evt_inv", type="invoice.paid", created=int((NOW - timedelta(hours=2)).timestamp()))]
    assert check("WH010", context(ev=evidence(events=old))).status.value == "pass"


def test_wh010_grace_period_is_counted_from_when_stripe_was_asked() -> None:
    young = [Event(id="evt_y", type="payment_intent.succeeded", created=int((NOW - timedelta(minutes=5)).timestamp()))]
    assert check("WH010", context(ev=evidence(events=young))).status.value == "pass"
    older = [Event(id="evt_o", type="payment_intent.succeeded", created=int((NOW - timedelta(minutes=20)).timestamp()))]
    result = check("WH010", context(ev=evidence(events=older)))
    assert result.status.value == "fail" and "may be" not in result.message  # no other endpoint subscribes


@pytest.mark.parametrize("url", [
    "https://erp.example/webhooks/plenigo-sync", "https://plenigo.example.com/stripe",
    "https://shop.example/callbacks/stripe", "https://hooks.example/plenigo/callbacks",
])
def test_endpoints_that_only_mention_plenigo_are_the_merchants_own(url) -> None:
    from auditor.rules.endpoints import points_at_plenigo

    assert not points_at_plenigo(endpoint(url=url))


@pytest.mark.parametrize("url", [
    "https://CALLBACKS.PLENIGO.COM:443/x", "http://callbacks.plenigo-stage.com/", "https://callbacks.plenigo.io/a",
    "https://callbaks.plenigo.com/", "https://callbacks.plenigo-stage.de/", "https://relay.example/callbacks/v1/stripe/X",
])
def test_callbacks_hosts_look_alikes_and_the_path_shape_are_candidates(url) -> None:
    from auditor.rules.endpoints import points_at_plenigo

    assert points_at_plenigo(endpoint(url=url))


def test_on_a_shared_account_a_near_miss_naming_the_other_tenant_is_theirs() -> None:
    """Rewriting it to this tenant's URL would move the other tenant's deliveries: WH002 says add one instead."""
    other = "OTHER000000000000009"
    mine = tenant(record(LIVE))
    theirs = tenant(record(LIVE, signing_secret=secret("whsec_" + "o" * 32)), company_id=other)
    eps = [endpoint(url=callback_url(other, LIVE) + "/", endpoint_id="we_other")]
    ctx = context(mine.record(LIVE), evidence(LIVE, eps), ten=mine, fleet=[mine, theirs])
    result = check("WH002", ctx)
    assert result.status.value == "fail" and "we_other is tenant OTHER000000000000009's" in result.message
    assert "Leave we_other" in result.remediation
    assert check("WH004", ctx).status.value == "skipped"


@pytest.mark.parametrize("same", [
    GOOD_LIVE.replace("callbacks.plenigo.com", "CALLBACKS.Plenigo.com"),
    GOOD_LIVE.replace("callbacks.plenigo.com", "callbacks.plenigo.com:443"),
])
def test_enabled_equivalent_url_beats_disabled_exact_twin(same: str) -> None:
    """An old disabled exact URL and a newer enabled one that differs only in host case or :443: Stripe
    delivers to the enabled one, so it is the endpoint; WH005 must not fail, and no fix may say to delete it."""
    old = endpoint(status="disabled", endpoint_id="we_old", created=1600000000)
    working = endpoint(url=same, endpoint_id="we_working", created=1700000000)
    ctx = context(ev=evidence(endpoints=[old, working]))
    wh005 = check("WH005", ctx)
    assert wh005.status.value == "pass" and "we_working" in wh005.message
    for rule_id in ("WH003", "WH004", "WH006", "WH008"):
        result = check(rule_id, ctx)
        assert result.status.value == "pass", (rule_id, result.message)


def test_wh005_disabled_exact_with_enabled_near_miss_keeps_delivering_one_safe() -> None:
    """Exact URL disabled, a near miss (trailing slash) enabled and delivering with the record's secret:
    enabling the old one must not lead the operator to delete the delivering one before the secret is checked."""
    old = endpoint(status="disabled", endpoint_id="we_old", created=1600000000)
    near = endpoint(url=GOOD_LIVE + "/", endpoint_id="we_near", created=1700000000)
    ctx = context(ev=evidence(endpoints=[old, near]))
    result = check("WH005", ctx)
    assert result.status.value == "fail" and "we_old" in result.message and "we_near" in result.message
    assert "before deleting or disabling any other endpoint" in result.remediation
    assert "Signing secret" in result.remediation


def test_wh010_without_a_plenigo_endpoint_blames_no_signing_secret() -> None:
    """Only the merchant's own endpoint subscribes: failed events are its failures, never plenigo's secret's.
    WH002 says what to do; WH010 telling the operator to replace signing_secret would be a step with no target."""
    own = endpoint(url="https://erp.example/webhooks/plenigo-sync", endpoint_id="we_erp")
    events = [Event(id="evt_1", type="payment_intent.succeeded", created=int((NOW - timedelta(hours=2)).timestamp()))]
    ctx = context(ev=evidence(endpoints=[own], events=events))
    assert check("WH002", ctx).status.value == "fail"
    result = check("WH010", ctx)
    assert result.status.value == "skipped" and "WH002" in result.message
