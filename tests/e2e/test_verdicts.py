"""Issue 11: verdicts an operator can act on blindly, each situation through the real path.

Every test writes a tenant file, serves Stripe-shaped objects from the stub
server, runs ``audit run`` and reads ``results.json``: collector → rules, as a
user runs it. No fix may break a working setup.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from auditor.cli import main
from auditor.config import Environment
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from tests.stub_stripe import StubStripe, make_account, make_endpoint, make_event

A, B = "TENANTA0000000000001", "TENANTB0000000000002"
ACCT, ACCT_B = "acct_1VerdictAaaaaaaa", "acct_1VerdictBbbbbbbb"
LIVE_URL_A, LIVE_URL_B = callback_url(A, Environment.LIVE), callback_url(B, Environment.LIVE)
STAGE_URL_A = callback_url(A, Environment.STAGE)
NOW = int(time.time())


def key(mode: str, account: str = ACCT, kind: str = "sk") -> str:
    return f"{kind}_{mode}_5{account[5:]}" + "Zz" * 20


def pk(mode: str, account: str = ACCT) -> str:
    return f"pk_{mode}_5{account[5:]}" + "Pp" * 20


def tenant_toml(tmp: Path, cid: str, env: str, secret_key: str, account: str = ACCT,
                signing: str = "whsec_" + "s" * 32, mode: str | None = None) -> str:
    mode = mode or ("live" if env == "live" else "test")
    (tmp / f"{cid}.{env}.sk").write_text(secret_key)
    (tmp / f"{cid}.{env}.whsec").write_text(signing)
    return (f'[[tenants]]\ncompany_id = "{cid}"\nname = "Tenant {cid[-1]}"\n[tenants.{env}]\n'
            f'account_id = "{account}"\npublishable_key = "{pk(mode, account)}"\n'
            f'secret_key = {{ file = "{cid}.{env}.sk" }}\nsigning_secret = {{ file = "{cid}.{env}.whsec" }}\n')


def audit(tmp: Path, world: dict, *tenants: str, extra: tuple[str, ...] = ()) -> dict:
    """Run ``audit run`` against the stub; results by (company_id, environment) → {rule: check}."""
    (tmp / "tenants.toml").write_text("\n".join(tenants))
    with StubStripe(world) as stub:
        code = main(["run", "--all-tenants", "--config", str(tmp / "tenants.toml"), "--stripe-api-base", stub.url,
                     "--format", "json", "--output", str(tmp / "out"), "-q", *extra])
        assert stub.methods_seen() <= {"GET"}
        audit.requests = list(stub.requests)  # type: ignore[attr-defined]
    assert code in (0, 1, 3)
    results = json.loads((tmp / "out" / "results.json").read_text())
    return {(r["company_id"], r["environment"]): {c["rule"]: c for c in r["checks"]} for r in results["records"]}


def entry(endpoints: list, account: dict | None = None, events: list | None = None, acct: str = ACCT) -> dict:
    return {"account": account or make_account(acct), "webhook_endpoints": endpoints, "events": events or []}


def live_endpoint(eid: str, url: str = LIVE_URL_A, status: str = "enabled", events=REQUIRED_EVENTS,
                  created: int = 1700000000) -> dict:
    return make_endpoint(eid, url, list(events), status=status, livemode=True, created=created)


def fixes(checks: dict) -> str:
    return "\n".join(c.get("remediation") or "" for c in checks.values())


# --- the endpoint choice -----------------------------------------------------


def test_old_disabled_and_new_enabled_exact_endpoint_is_not_a_finding(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_old", status="disabled", created=1600000000),
                                 live_endpoint("we_new", created=1700000000)])}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert checks["WH005"]["status"] == "pass" and checks["WH005"]["details"]["endpoint"] == "we_new"
    assert checks["WH008"]["status"] == "pass" and "we_old disabled" in checks["WH008"]["message"]
    assert "we_new" not in fixes(checks)  # nothing tells anyone to delete the delivering endpoint


def test_a_disabled_near_duplicate_is_not_counted_as_delivering_twice(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_good"),
                                 live_endpoint("we_slash", url=LIVE_URL_A + "/", status="disabled")])}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert checks["WH008"]["status"] == "pass"
    assert {checks[r]["status"] for r in ("WH003", "WH004", "WH005")} == {"pass"}


def test_two_enabled_endpoints_name_the_one_to_keep_and_each_to_delete_by_id(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_slash", url=LIVE_URL_A + "/", created=1600000000),
                                 live_endpoint("we_good", created=1700000000)])}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    wh008 = checks["WH008"]
    assert wh008["status"] == "fail" and wh008["details"]["keep"] == "we_good"
    assert wh008["details"]["delete"] == ["we_slash"]
    assert "Keep the endpoint we_good" in wh008["remediation"] and "- we_slash" in wh008["remediation"]


def test_the_merchants_own_endpoint_mentioning_plenigo_is_never_a_candidate(tmp_path) -> None:
    own = make_endpoint("we_erp", "https://erp.example/webhooks/plenigo-sync", ["invoice.paid"], livemode=True)
    world = {key("live"): entry([own])}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert checks["WH002"]["status"] == "fail"
    assert {checks[r]["status"] for r in ("WH003", "WH004", "WH005", "WH006")} == {"skipped"}
    assert "Create new destination" in checks["WH002"]["remediation"]
    assert "we_erp" not in fixes(checks) and "erp.example" not in fixes(checks)
    world = {key("live"): entry([own, live_endpoint("we_good")])}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert {checks[r]["status"] for r in ("WH002", "WH003", "WH004", "WH008")} == {"pass"}


def test_look_alike_hosts_and_the_path_shape_are_candidates(tmp_path) -> None:
    for url in ("https://callbacks.plenigo.de/callbacks/v1.0/stripe/" + A,
                "https://calbacks.plenigo.com/callbacks/v1.0/stripe/" + A,
                "https://hooks.example.com/callbacks/v1.0/stripe/" + A):
        world = {key("live"): entry([live_endpoint("we_x", url=url)])}
        checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
        assert checks["WH002"]["status"] == "pass" and checks["WH003"]["status"] == "fail", url
        assert LIVE_URL_A in checks["WH003"]["remediation"]


def test_two_tenants_on_one_account_each_keep_their_own_endpoint(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_a", LIVE_URL_A), live_endpoint("we_b", LIVE_URL_B)])}
    results = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")),
                    tenant_toml(tmp_path, B, "live", key("live"), signing="whsec_" + "b" * 32))
    for cid in (A, B):
        checks = results[(cid, "live")]
        assert {checks[r]["status"] for r in ("WH002", "WH003", "WH004", "WH008")} == {"pass"}, cid
        assert checks["TEN003"]["status"] == "fail"  # the shared account itself is still reported


def test_a_tenant_without_its_own_endpoint_on_a_shared_account_adds_one(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_a", LIVE_URL_A)])}
    results = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")),
                    tenant_toml(tmp_path, B, "live", key("live"), signing="whsec_" + "b" * 32))
    checks = results[(B, "live")]
    assert checks["WH002"]["status"] == "fail" and A in checks["WH002"]["message"]
    assert checks["WH004"]["status"] == "skipped"  # tenant A's endpoint is not B's wrong one
    assert LIVE_URL_B in checks["WH002"]["remediation"]
    assert f"Leave we_a ({LIVE_URL_A}) alone" in checks["WH002"]["remediation"]
    assert "Edit destination" not in fixes(checks)
    assert results[(A, "live")]["WH004"]["status"] == "pass"


# --- a key of the wrong mode -------------------------------------------------


def test_a_test_key_on_the_live_record_skips_the_mode_bound_checks(tmp_path) -> None:
    stage_ep = make_endpoint("we_stage", STAGE_URL_A, list(REQUIRED_EVENTS), livemode=False)
    world = {key("test"): entry([stage_ep], account=make_account(ACCT, payouts=False))}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("test"), mode="live"))[(A, "live")]
    assert checks["KEY004"]["status"] == "fail"
    mode_bound = [f"WH0{i:02d}" for i in range(2, 11)] + ["ACC004", "ACC005", "ACC006"]
    for rule in mode_bound:
        assert checks[rule]["status"] == "skipped" and "KEY004" in checks[rule]["message"], rule
    assert checks["ACC003"]["status"] == "pass" and checks["KEY005"]["status"] == "pass"
    assert "plenigo-stage" not in fixes(checks)  # nothing points the live endpoint at the stage host


# --- WH010 ----------------------------------------------------------------------


def test_wh010_asks_only_for_the_15_types_and_ignores_other_failures(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_good")],
                                events=[make_event("evt_inv1", "invoice.paid", NOW - 7200, livemode=True)])}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert checks["WH010"]["status"] == "pass"
    events_query = next(path for _, path, _ in audit.requests if path.startswith("/v1/events"))  # type: ignore
    assert all(f"={t}" in events_query for t in REQUIRED_EVENTS) and "types%5B0%5D=" in events_query


def test_wh010_events_still_in_flight_are_not_judged(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_good")],
                                events=[make_event("evt_new1", "payment_intent.succeeded", NOW - 30, livemode=True)])}
    tenant = tenant_toml(tmp_path, A, "live", key("live"))
    assert audit(tmp_path, world, tenant)[(A, "live")]["WH010"]["status"] == "pass"
    late = audit(tmp_path, world, tenant, extra=("--delivery-grace-minutes", "0"))[(A, "live")]["WH010"]
    assert late["status"] == "fail"


def test_wh010_says_another_subscribed_endpoint_may_be_the_failing_one(tmp_path) -> None:
    own = make_endpoint("we_erp", "https://erp.example/stripe", ["payment_intent.succeeded"], livemode=True)
    world = {key("live"): entry([live_endpoint("we_good"), own],
                                events=[make_event("evt_old1", "payment_intent.succeeded", NOW - 7200,
                                                   livemode=True)])}
    wh010 = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]["WH010"]
    assert wh010["status"] == "fail" and "it may be we_erp (https://erp.example/stripe)" in wh010["message"]
    assert "evt_old1 payment_intent.succeeded" in wh010["remediation"]


# --- the account -------------------------------------------------------------------


def test_payouts_off_is_not_cannot_take_charges(tmp_path) -> None:
    world = {key("live"): entry([live_endpoint("we_good")], account=make_account(ACCT, payouts=False))}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert checks["ACC004"]["status"] == "pass"
    assert checks["ACC005"]["status"] == "fail" and checks["ACC005"]["severity"] == "medium"


def test_acc006_reads_past_due_and_the_deadline_from_stripe(tmp_path) -> None:
    account = make_account(ACCT, due=["company.tax_id"])
    account["requirements"]["current_deadline"] = 1798761600  # 2027-01-01
    account["requirements"]["past_due"] = ["external_account"]
    world = {key("live"): entry([live_endpoint("we_good")], account=account)}
    acc006 = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]["ACC006"]
    assert acc006["status"] == "fail" and "external_account" in acc006["message"]
    assert "company.tax_id" in acc006["message"] and "2027-01-01" in acc006["message"]


# --- secrets across records and tenants -----------------------------------------------


def test_the_same_signing_secret_on_stage_and_live_and_across_tenants(tmp_path) -> None:
    shared = "whsec_" + "d" * 32
    world = {key("live"): entry([live_endpoint("we_good")]),
             key("live", ACCT_B): entry([live_endpoint("we_b", LIVE_URL_B)], acct=ACCT_B),
             key("test"): entry([make_endpoint("we_s", STAGE_URL_A, list(REQUIRED_EVENTS))])}
    both = tenant_toml(tmp_path, A, "live", key("live"), signing=shared) + \
        tenant_toml(tmp_path, A, "stage", key("test"), signing=shared).split("\n", 3)[3]
    other = tenant_toml(tmp_path, B, "live", key("live", ACCT_B), account=ACCT_B, signing=shared)
    results = audit(tmp_path, world, both, other)
    ten004 = results[(A, "live")]["TEN004"]
    assert ten004["status"] == "fail" and ten004["severity"] == "medium"
    ten003 = results[(B, "live")]["TEN003"]
    assert ten003["status"] == "fail" and "the signing secret" in ten003["message"] and A in ten003["message"]
    assert shared not in (tmp_path / "out" / "results.json").read_text()


# --- fix texts ------------------------------------------------------------------------


def test_no_live_fix_says_reveal_live_key_and_errors_have_fixes(tmp_path) -> None:
    rk = key("live", kind="rk")
    world = {rk: {**entry([live_endpoint("we_good")]), "faults": {
        "status_forever": {"/v1/account": 403},
        "messages": {"/v1/account": "The provided key 'rk_live_…Zz' does not have the required permissions for "
                                    "this endpoint. Having the 'rak_account_read' permission would allow this "
                                    "request to continue."}}}}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", rk))[(A, "live")]
    assert checks["ACC003"]["status"] == "error"
    assert "rak_account_read" in checks["ACC003"]["remediation"]
    assert "standard secret key" in checks["ACC003"]["remediation"]
    assert "Reveal live key" not in fixes(checks)
    rejected = audit(tmp_path, {}, tenant_toml(tmp_path, A, "live", key("live")))[(A, "live")]
    assert rejected["KEY005"]["status"] == "fail" and "Reveal live key" not in rejected["KEY005"]["remediation"]
    assert "stored when it was created" in rejected["KEY005"]["remediation"]
    assert "roll it" in rejected["KEY005"]["remediation"]


def test_an_unreachable_stripe_error_says_to_check_network_and_api_base(tmp_path) -> None:
    """Stripe answers the fleet's reachability check, but this record's connections are cut every time."""
    live = key("live")
    drop = {"drop": ["/v1/account", "/v1/webhook_endpoints", "/v1/events"]}
    world = {live: {**entry([make_endpoint("we_a", LIVE_URL_A, list(REQUIRED_EVENTS), livemode=True)]),
                    "faults": drop}}
    checks = audit(tmp_path, world, tenant_toml(tmp_path, A, "live", live), extra=("--retries", "0"))[(A, "live")]
    assert checks["ACC003"]["status"] == "error"
    fix = checks["ACC003"]["remediation"]
    assert "network" in fix and "proxy" in fix and "--stripe-api-base" in fix
