"""Every Stripe fault ends as a documented status with a reason; the rest of the fleet is untouched.

Against a real HTTP server on loopback (tests/stub_stripe.py): real sockets, real timeouts, real retries.
"""

from __future__ import annotations

import json

import pytest

from auditor.cli import main
from tests.faults.fleet import build_fleet, company_id, live_key
from tests.stub_stripe import StubStripe

FAST = {"Retry-After": "0"}  # the stub asks for an immediate retry: real retries, no waiting

SCENARIOS = {
    # name: (faults for tenant 0's live key, victim status, failing rules, errored rules, words, exit code)
    "401": (None, "error", {"KEY005"}, {"ACC003", "ACC004", "WH002"}, "rejected the secret key", 1),
    "403-account-only": ({"status_forever": {"/v1/account": 403}}, "error", set(), {"ACC003", "ACC004"},
                         "HTTP 403", 3),
    "404": ({"status_forever": {"/v1/webhook_endpoints": 404}}, "error", set(), {"WH002", "WH006"}, "404", 3),
    "429-then-ok": ({"/v1/account": [429, 429, 429], "headers": FAST}, "pass", set(), set(), "", 0),
    "429-forever": ({"status_forever": {"/v1/events": 429}, "headers": FAST}, "error", set(), {"WH010"},
                    "429 Too Many Requests", 3),
    "500-twice-then-ok": ({"/v1/webhook_endpoints": [500, 500], "headers": FAST}, "pass", set(), set(), "", 0),
    "500-forever": ({"status_forever": {"/v1/account": 500}, "headers": FAST}, "error", set(), {"ACC003"},
                    "server error", 3),
    "read-timeout": ({"hang": ["/v1/events"]}, "error", set(), {"WH010"}, "did not answer in time", 3),
    "never-answers": ({"hang": ["/v1/account"]}, "error", set(), {"ACC003", "WH006", "WH010"},
                      "did not answer in time", 3),
    "connection-dropped": ({"drop": ["/v1/webhook_endpoints"]}, "error", set(), {"WH002", "WH006"},
                           "the connection was closed before an answer came", 3),
    "malformed-json": ({"malformed": ["/v1/account"]}, "error", set(), {"ACC003"}, "could not be read", 3),
    "truncated-body": ({"truncated": ["/v1/webhook_endpoints"]}, "error", set(), {"WH006"}, "could not be read", 3),
    # hostile answers: each request has a total deadline, each answer a size cap, no redirect is followed
    "trickling-body": ({"trickle": ["/v1/events"]}, "error", set(), {"WH010"}, "not complete within 0.5 s", 3),
    "trickling-headers": ({"trickle_headers": ["/v1/account"]}, "error", set(), {"ACC003", "WH006"},
                          "not complete within 0.5 s", 3),
    "gzip-bomb": ({"gzip_bomb": {"/v1/webhook_endpoints": 50 << 20}}, "error", set(), {"WH006"},
                  "the answer is larger than 8 MB", 3),
    "redirect": ({"redirect": {"/v1/account": "http://localhost:1/v1/account"}}, "error", set(), {"ACC003"},
                 "redirect (HTTP 302) to localhost", 3),
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return build_fleet(tmp_path_factory.mktemp("fleet"), tenants=3)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fault(name, fleet, tmp_path, capsys) -> None:
    config, world, secrets = fleet
    faults, status, failing, errored, words, code = SCENARIOS[name]
    world = {k: dict(v) for k, v in world.items()}
    victim = live_key(world, 0)
    if faults is None:
        del world[victim]
    else:
        world[victim]["faults"] = faults
    with StubStripe(world) as stub:
        exit_code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                          "--format", "json", "--output", str(tmp_path), "--timeout", "0.5", "--retries", "3"])
        assert stub.methods_seen() == {"GET"}
    out, err = capsys.readouterr()
    results = json.loads((tmp_path / "results.json").read_text())
    records = {(r["company_id"], r["environment"]): r for r in results["records"]}
    hit = records.pop((company_id(0), "live"))
    assert hit["status"] == status, hit["error"]
    checks = {c["rule"]: c for c in hit["checks"]}
    assert failing <= {r for r, c in checks.items() if c["status"] == "fail"}
    assert errored <= {r for r, c in checks.items() if c["status"] == "error"}
    if words:
        assert words in (hit["error"] or "") + " ".join(c["message"] for c in checks.values())
    assert all(r["status"] == "pass" for r in records.values()), "the rest of the fleet is untouched"
    assert exit_code == code
    text = out + err + (tmp_path / "results.json").read_text()
    assert not [s for s in secrets if s in text]


def test_what_was_gathered_before_a_timeout_is_kept(fleet, tmp_path, capsys) -> None:
    config, world, _ = fleet
    world = {k: dict(v) for k, v in world.items()}
    world[live_key(world, 0)]["faults"] = {"hang": ["/v1/events"]}
    with StubStripe(world) as stub:
        main(["run", "--tenant", company_id(0), "--env", "live", "--config", str(config), "--stripe-api-base",
              stub.url, "--format", "json", "--output", str(tmp_path), "--timeout", "0.5", "--retries", "0"])
    record = json.loads((tmp_path / "results.json").read_text())["records"][0]
    assert record["evidence"]["account"] is not None and record["evidence"]["webhook_endpoints"]
    assert {c["rule"]: c["status"] for c in record["checks"]}["WH006"] == "pass"


def test_verbose_logging_never_shows_a_secret(fleet, tmp_path, capfd) -> None:
    config, world, secrets = fleet
    world = {k: dict(v) for k, v in world.items()}
    world[live_key(world, 1)]["faults"] = {"/v1/account": [429, 500], "headers": FAST}
    del world[live_key(world, 2)]
    with StubStripe(world) as stub:
        main(["-vv", "run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
              "--format", "json,table,junit,html", "--output", str(tmp_path), "--retries", "2"])
    out, err = capfd.readouterr()
    assert "DEBUG" in err or "INFO" in err  # the logging really was on
    outputs = out + err + "".join(p.read_text() for p in tmp_path.iterdir() if p.is_file())
    assert not [s for s in secrets if s in outputs]
    from auditor.logs import setup_logging

    setup_logging(0)


def test_forked_worker_processes_give_the_same_results_as_one_thread(tmp_path, capsys) -> None:
    """Large fleets are split over forked processes: every record must come back, in order, unchanged."""
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=7)
    world[live_key(world, 3)]["faults"] = {"status_forever": {"/v1/account": 403}}
    outputs = {}
    with StubStripe(world) as stub:
        for name, flags in (("threads", ["--workers", "1"]), ("processes", ["--workers", "4", "--processes", "2"])):
            code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url, *flags,
                         "--format", "json", "--output", str(tmp_path / name), "--quiet"])
            outputs[name] = (code, json.loads((tmp_path / name / "results.json").read_text()))
    capsys.readouterr()

    def verdicts(results: dict) -> list:
        return [(r["company_id"], r["environment"], r["status"], r["error"],
                 [(c["rule"], c["status"], c["message"]) for c in r["checks"]]) for r in results["records"]]

    (code_t, threads), (code_p, processes) = outputs["threads"], outputs["processes"]
    assert code_t == code_p == 3 and len(processes["records"]) == 14
    assert verdicts(processes) == verdicts(threads)
    assert processes["summary"] == threads["summary"] == {"records": 14, "pass": 13, "fail": 0, "error": 1}


def test_saved_evidence_re_audits_to_the_same_results(tmp_path, capsys) -> None:
    """--save-evidence keeps what Stripe answered; --evidence re-audits it without Stripe, to the same verdicts."""
    config, world, secrets = build_fleet(tmp_path / "fleet", tenants=3)
    world[live_key(world, 1)]["faults"] = {"status_forever": {"/v1/events": 500}, "headers": FAST}
    world[live_key(world, 2)]["webhook_endpoints"][0]["enabled_events"] = ["payment_intent.succeeded"]
    with StubStripe(world) as stub:
        live_code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                          "--retries", "1", "--save-evidence", str(tmp_path / "evidence"), "--format", "json",
                          "--output", str(tmp_path / "live"), "--quiet"])
    saved_code = main(["run", "--all-tenants", "--config", str(config), "--evidence", str(tmp_path / "evidence"),
                       "--format", "json", "--output", str(tmp_path / "saved"), "--quiet"])
    capsys.readouterr()
    live, saved = (json.loads((tmp_path / name / "results.json").read_text()) for name in ("live", "saved"))
    assert live_code == saved_code == 1
    verdicts = [(r["status"], r["checks"]) for r in saved["records"]]
    assert verdicts == [(r["status"], r["checks"]) for r in live["records"]]
    assert saved["mode"] != live["mode"]
    files = sorted(p.name for p in (tmp_path / "evidence").iterdir())
    assert len(files) == 6 and not [s for s in secrets for p in (tmp_path / "evidence").iterdir() if s in p.read_text()]


def test_stripe_api_base_from_the_environment(fleet, tmp_path, capsys, monkeypatch) -> None:
    config, world, _ = fleet
    with StubStripe(world) as stub:
        monkeypatch.setenv("STRIPE_API_BASE", stub.url)
        code = main(["run", "--all-tenants", "--config", str(config), "--format", "json", "--output", str(tmp_path)])
        reads = [r for r in stub.requests if r[1] != "/v1"]  # /v1: the one keyless reachability probe
        assert code == 0 and len(reads) == 3 * 6  # three reads for each of the 6 records
    monkeypatch.setenv("STRIPE_API_BASE", "http://10.0.0.5:12111")
    assert main(["run", "--all-tenants", "--config", str(config), "--format", "json", "--output", str(tmp_path)]) == 2
    assert "cross the network in clear" in capsys.readouterr().err


def test_progress_bar_on_a_terminal_only_and_not_with_quiet(fleet, tmp_path, capsys, monkeypatch) -> None:
    config, world, _ = fleet
    world = {k: dict(v) for k, v in world.items()}
    world[live_key(world, 0)]["faults"] = {"status_forever": {"/v1/account": 403}}
    args = ["run", "--all-tenants", "--config", str(config), "--format", "json", "--output", str(tmp_path)]
    with StubStripe(world) as stub:
        main(args + ["--stripe-api-base", stub.url])
        assert "auditing" not in capsys.readouterr().err  # standard error is no terminal here
        monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
        main(args + ["--stripe-api-base", stub.url])
        err = capsys.readouterr().err
        assert "auditing (0 failing, 1 errors)" in err and "6/6" in err
        main(args + ["--stripe-api-base", stub.url, "--quiet"])
        assert "auditing" not in capsys.readouterr().err
