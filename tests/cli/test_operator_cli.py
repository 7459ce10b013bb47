"""The operator's command line at fleet scale (issue 14), through the installed ``audit`` command.

Every test runs ``.venv/bin/audit`` as a subprocess, as a person or a cron job
would: exit codes, what reaches standard output and standard error, the files.
"""

from __future__ import annotations

import csv
import json
import os
import pty
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.faults.fleet import build_fleet
from tests.stub_stripe import StubStripe

ROOT = Path(__file__).resolve().parents[2]
AUDIT = Path(sys.executable).parent / "audit"
SAMPLES = ["--config", str(ROOT / "samples" / "tenants.toml"), "--evidence", str(ROOT / "samples" / "evidence")]


def audit(*argv: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "STRIPE_API_BASE")}
    return subprocess.run([str(AUDIT), *argv], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**environ, **(env or {})})


def on_terminal(*argv: str, env: dict[str, str] | None = None, columns: int = 80) -> tuple[int, str]:
    """Run ``audit`` with standard output on a pseudo-terminal, as in a person's shell; return (code, output)."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update({"COLUMNS": str(columns), "TERM": "xterm", **(env or {})})
    proc = subprocess.Popen([str(AUDIT), *argv], stdout=follower, stderr=subprocess.PIPE, cwd=ROOT, env=environ)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    proc.wait(timeout=300)
    proc.stderr.close()
    return proc.returncode, b"".join(chunks).decode("utf-8")


def closed_port() -> int:
    """A loopback port where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- exit codes that cannot lie ---------------------------------------------------------------------------


def test_a_tenant_file_without_tenants_is_exit_2_saying_why(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text("# tenants come later\n")
    result = audit("run", "--all-tenants", "--offline", "--config", str(config), "--format", "json",
                   "--output", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "nothing to audit" in result.stderr and "holds no tenants" in result.stderr
    assert not (tmp_path / "out").exists()


def test_env_live_for_a_tenant_without_a_live_record_is_exit_2_naming_the_tenant(tmp_path) -> None:
    result = audit("run", "--tenant", "RHE1NUFERPODCAST0007", "--env", "live", *SAMPLES, "--format", "json",
                   "--output", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "RHE1NUFERPODCAST0007 has no live record (records: stage)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_all_tenants_env_live_when_no_tenant_is_live_is_exit_2(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "AAA1"\n[tenants.stage]\n[[tenants]]\ncompany_id = "BBB2"\n'
                      '[tenants.stage]\n')
    result = audit("run", "--all-tenants", "--env", "live", "--offline", "--config", str(config))
    assert result.returncode == 2 and f"no tenant in {config} has a live record" in result.stderr


def test_stripe_unreachable_stops_before_the_fleet_with_one_message_and_exit_3(tmp_path) -> None:
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=5)
    port = closed_port()
    result = audit("run", "--all-tenants", "--config", str(config), "--stripe-api-base", f"http://127.0.0.1:{port}",
                   "--retries", "0", "--format", "table,json", "--output", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    assert f"Stripe cannot be reached at 127.0.0.1:{port} (connection refused)" in result.stderr
    for way_out in ("--stripe-api-base", "HTTPS_PROXY", "NO_PROXY", "--offline", "--evidence"):
        assert way_out in result.stderr
    assert result.stderr.count("cannot be reached") == 1 and "Traceback" not in result.stderr
    assert result.stdout == "" and not (tmp_path / "out").exists()


def test_stripe_that_accepts_but_never_answers_is_a_timeout_exit_3(tmp_path) -> None:
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=2)
    with socket.socket() as silent:  # the kernel completes the handshake; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result = audit("run", "--all-tenants", "--config", str(config), "--stripe-api-base",
                       f"http://127.0.0.1:{port}", "--timeout", "0.5", "--output", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    assert "no answer within the timeout" in result.stderr


def test_a_dead_proxy_is_named_as_the_reason(tmp_path) -> None:
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=1)
    proxy = f"http://127.0.0.1:{closed_port()}"
    result = audit("run", "--all-tenants", "--config", str(config), "--stripe-api-base", "https://stripe.example",
                   "--output", str(tmp_path / "out"), env={"HTTPS_PROXY": proxy, "NO_PROXY": ""})
    assert result.returncode == 3, result.stderr
    assert "Stripe cannot be reached at stripe.example (the proxy set in HTTPS_PROXY could not be reached)" in (
        result.stderr)


def test_the_reachability_probe_carries_no_key_and_a_reachable_stripe_is_audited(tmp_path) -> None:
    config, world, _secrets = build_fleet(tmp_path / "fleet", tenants=2)
    with StubStripe(world) as stub:
        result = audit("run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                       "--format", "json", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    method, path, key = stub.requests[0]
    assert (method, path) == ("GET", "/v1")
    assert not (key or "").startswith(("sk_", "rk_"))  # no tenant's key goes anywhere new
    assert len([p for _, p, _ in stub.requests if p == "/v1"]) == 1  # one probe, not one per record
    assert {m for m, _, _ in stub.requests} == {"GET"}


def test_offline_and_evidence_runs_skip_the_reachability_check(tmp_path) -> None:
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=1)
    dead = f"http://127.0.0.1:{closed_port()}"
    offline = audit("run", "--all-tenants", "--offline", "--config", str(config), "--stripe-api-base", dead,
                    "--format", "json", "--output", str(tmp_path / "a"))
    saved = audit("run", "--all-tenants", *SAMPLES, "--stripe-api-base", dead, "--format", "json",
                  "--output", str(tmp_path / "b"))
    assert offline.returncode == 0, offline.stderr
    assert saved.returncode == 1 and "cannot be reached" not in saved.stderr


def test_no_probe_when_no_record_has_a_key_to_ask_stripe_with(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "AAA1"\n[tenants.stage]\naccount_id = "acct_1"\n')
    result = audit("run", "--all-tenants", "--config", str(config), "--stripe-api-base",
                   f"http://127.0.0.1:{closed_port()}")
    assert result.returncode == 1 and "KEY003" in result.stdout and "cannot be reached" not in result.stderr


# --- the terminal view ------------------------------------------------------------------------------------


def test_the_samples_table_fits_80_columns_worst_first_with_passes_folded() -> None:
    result = audit("run", "--all-tenants", *SAMPLES)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert max(len(line) for line in lines) <= 80
    heads = [line for line in lines if line[:5] in ("ERROR", "FAIL ", "PASS ")]
    assert heads[0].startswith("ERROR SEEBL1CKSPORT0000008 live")
    assert [h[:5] for h in heads] == sorted((h[:5] for h in heads), key=["ERROR", "FAIL ", "PASS "].index)
    assert heads[-1] == "PASS  5 records passed; --show-pass lists them"
    assert "8XYM4WU2V6NJUM5LZ6C9" not in result.stdout  # the correct tenant is folded into the count
    # critical failures come before medium ones within the failed records
    fails = [h for h in heads if h.startswith("FAIL")]
    assert "HAFENBL1CKMED1EN0003 live" in fails[0]  # four failures, a critical one among them
    assert "K1ELERRUNDSCHAU00005 stage" in fails[-2] and "SEEBL1CKSPORT0000008 stage" in fails[-1]  # medium only
    # a URL is never cut in two, so it can be copied
    assert "https://callbacks.plenigo.com/callbacks/v1.0/stripe/HAFENBL1CKMED1EN0003" in result.stdout


def test_severity_is_a_word_and_info_says_it_does_not_fail() -> None:
    out = audit("run", "--all-tenants", *SAMPLES).stdout
    assert "  CRITICAL WH006 events-complete: 3 of 15 required events are not subscribed" in out
    assert "  info     WH007 events-extra (info: does not fail the record):" in out
    assert "  ERROR    ACC003 account-id-matches-stripe:" in out


def test_show_pass_lists_passing_records_and_checks() -> None:
    out = audit("run", "--all-tenants", *SAMPLES, "--show-pass").stdout
    assert "PASS  8XYM4WU2V6NJUM5LZ6C9 stage Example Media GmbH" in out
    assert "  pass     ACC001 account-id-present" in out
    assert "--show-pass lists them" not in out


def test_no_color_env_and_flag_print_no_escape_sequence_on_a_terminal() -> None:
    argv = ("run", "--all-tenants", *SAMPLES, "--quiet")
    code, coloured = on_terminal(*argv)
    assert code == 1 and "\x1b[" in coloured  # a terminal gets colour ...
    code, plain = on_terminal(*argv, env={"NO_COLOR": "1"})
    assert code == 1 and "\x1b" not in plain and "CRITICAL WH006" in plain  # ... unless NO_COLOR: words remain
    code, flag = on_terminal(*argv, "--no-color")
    assert code == 1 and "\x1b" not in flag


def test_the_checklist_honours_no_color_on_a_terminal() -> None:
    argv = ("checklist", "--tenant", "N0RDL1CHTVERLAG00002", "--env", "live", *SAMPLES)
    assert "\x1b[" in on_terminal(*argv)[1]
    code, plain = on_terminal(*argv, env={"NO_COLOR": "1"})
    assert code == 1 and "\x1b" not in plain and "NOT READY" in plain


def test_the_table_uses_the_terminal_width_on_a_terminal() -> None:
    _, wide = on_terminal("run", "--all-tenants", *SAMPLES, "--quiet", "--no-color", columns=120)
    lines = wide.replace("\r\n", "\n").splitlines()
    assert 80 < max(len(line) for line in lines) <= 120


# --- filters apply to every format --------------------------------------------------------------------------


def test_severity_and_rule_filters_apply_to_every_format_and_the_exit_code(tmp_path) -> None:
    out = tmp_path / "out"
    result = audit("run", "--all-tenants", *SAMPLES, "--severity", "high", "--format", "table,json,csv",
                   "--output", str(out))
    checks = [c for r in json.loads((out / "results.json").read_text())["records"] for c in r["checks"]]
    assert checks and {c["severity"] for c in checks} <= {"critical", "high"}
    rows = list(csv.DictReader((out / "results.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows and {r["severity"] for r in rows} <= {"critical", "high"}
    assert "MEDIUM" not in result.stdout and "TEN002" not in result.stdout
    only = audit("run", "--all-tenants", *SAMPLES, "--rule", "events-extra", "--format", "table,json",
                 "--output", str(tmp_path / "only"))
    data = json.loads((tmp_path / "only" / "results.json").read_text())
    assert {c["rule"] for r in data["records"] for c in r["checks"]} == {"WH007"}
    assert only.returncode == 0  # WH007 is info: with only it shown, nothing fails


# --- one summary line on standard error ---------------------------------------------------------------------


def test_every_run_ends_with_one_summary_line_on_standard_error(tmp_path) -> None:
    history = tmp_path / "history"
    first = audit("run", "--all-tenants", *SAMPLES, "--format", "json", "--output", str(tmp_path / "out"),
                  "--history", str(history))
    assert first.stdout == ""
    assert first.stderr.strip().splitlines()[-1] == (
        f"audit: 8 tenants, 15 records: 5 pass, 9 fail, 1 error; first run in the history; "
        f"reports in {tmp_path / 'out'} (results.json)")
    second = audit("run", "--all-tenants", *SAMPLES, "--format", "json", "--output", str(tmp_path / "out"),
                   "--history", str(history))
    assert "; 0 new, 0 resolved since the last run; reports in" in second.stderr.strip().splitlines()[-1]


# --- did you mean -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["8xym4wu2v6njum5lz6c9", "8XYM4WU2V6"])
def test_a_lower_case_or_truncated_company_id_gets_a_suggestion(typed) -> None:
    result = audit("run", "--tenant", typed, *SAMPLES)
    assert result.returncode == 2
    assert f"no tenant with company_id {typed!r}" in result.stderr
    assert "(did you mean '8XYM4WU2V6NJUM5LZ6C9'?)" in result.stderr


def test_explain_suggests_the_rule_meant() -> None:
    result = audit("explain", "wh06")
    assert result.returncode == 2 and "did you mean 'WH006'" in result.stderr
    bad_filter = audit("run", "--all-tenants", *SAMPLES, "--rule", "events-complet")
    assert bad_filter.returncode == 2 and "did you mean 'events-complete'" in bad_filter.stderr


def test_every_problem_of_a_tenant_file_is_listed_with_suggestions(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "AAA1"\nnmae = "A"\n[tenants.live]\nsecret_kye = "x"\n'
                      '[[tenants]]\ncompany_id = "BBB2"\n[tenants.stage]\nsecret_key = { env = "H14_UNSET_1" }\n'
                      'signing_secret = { env = "H14_UNSET_2" }\n')
    result = audit("run", "--all-tenants", "--offline", "--config", str(config))
    assert result.returncode == 2
    assert "unknown key (a typo?) (did you mean 'name'?)" in result.stderr
    assert "field live.secret_kye: unknown key (a typo?) (did you mean 'secret_key'?)" in result.stderr
    assert "more problem" not in result.stderr
    fixed = config.read_text().replace("nmae", "name").replace("secret_kye", "secret_key")
    config.write_text(fixed)
    result = audit("run", "--all-tenants", "--offline", "--config", str(config))
    assert result.returncode == 2
    assert "H14_UNSET_1 is not set" in result.stderr and "H14_UNSET_2 is not set" in result.stderr


def test_every_file_of_a_tenant_folder_has_its_problems_listed(tmp_path) -> None:
    folder = tmp_path / "tenants"
    folder.mkdir()
    (folder / "a.toml").write_text('[[tenants]]\ncompany_id = "AAA1"\ncontcat = "x"\n')
    (folder / "b.toml").write_text('[[tenants]]\ncompany_id = "AAA1"\n[[tenants]]\nname = "no id"\n')
    result = audit("run", "--all-tenants", "--offline", "--config", str(folder))
    assert result.returncode == 2
    assert f"{folder / 'a.toml'}: tenant AAA1 (tenants[0]): field contcat: unknown key" in result.stderr
    assert "did you mean 'contact'" in result.stderr
    assert f"{folder / 'b.toml'}: tenant tenants[1]: field company_id: required field is missing" in result.stderr


# --- machine outputs ----------------------------------------------------------------------------------------


def test_rules_speak_json() -> None:
    result = audit("rules", "--format", "json")
    rules = json.loads(result.stdout)["rules"]
    wh006 = next(r for r in rules if r["id"] == "WH006")
    assert wh006["slug"] == "events-complete" and wh006["severity"] == "critical"
    assert wh006["environments"] == ["live", "stage"] and wh006["remediation"]


def test_diff_speaks_json_and_exits_1_on_new_failures(tmp_path) -> None:
    audit("run", "--all-tenants", *SAMPLES, "--rule", "ACC001", "--format", "json", "--output", str(tmp_path / "old"))
    audit("run", "--all-tenants", *SAMPLES, "--format", "json", "--output", str(tmp_path / "new"))
    old, new = str(tmp_path / "old" / "results.json"), str(tmp_path / "new" / "results.json")
    news = audit("diff", old, new, "--format", "json")
    assert news.returncode == 1, news.stderr
    data = json.loads(news.stdout)
    assert {"company_id": "BERGMANND1G1TAL00004", "environment": "live", "rule": "WH006"}.items() <= next(
        c for c in data["new_failures"] if c["rule"] == "WH006").items()
    assert audit("diff", new, new).returncode == 0
    assert audit("diff", new, old, "--format", "json").returncode == 0  # only resolved: no news


def test_checklist_speaks_json() -> None:
    ready = audit("checklist", "--tenant", "8XYM4WU2V6NJUM5LZ6C9", "--env", "live", *SAMPLES, "--format", "json")
    assert ready.returncode == 0 and json.loads(ready.stdout)["verdict"] == "READY"
    blocked = audit("checklist", "--tenant", "N0RDL1CHTVERLAG00002", "--env", "live", *SAMPLES, "--format", "json")
    data = json.loads(blocked.stdout)
    assert blocked.returncode == 1 and data["verdict"] == "NOT READY" and data["blocking"]


def test_csv_has_one_row_per_check_and_is_formula_safe(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "EVIL0001"\nname = "=HYPERLINK(\\"http://x\\")"\n'
                      '[tenants.stage]\naccount_id = "@acct"\n')
    audit("run", "--all-tenants", "--offline", "--config", str(config), "--format", "csv", "--output", str(tmp_path))
    rows = list(csv.DictReader((tmp_path / "results.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert list(rows[0]) == ["company_id", "tenant", "environment", "record_status", "rule", "slug", "severity",
                             "status", "message", "remediation", "waived_until", "waived_by", "waiver_reason"]
    assert len(rows) == len({r["rule"] for r in rows}) and len(rows) > 10  # one row per check of the one record
    assert {r["tenant"] for r in rows} == {"'=HYPERLINK(\"http://x\")"}
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_junit_passes_info_findings_with_the_finding_in_system_out(tmp_path) -> None:
    audit("run", "--all-tenants", *SAMPLES, "--format", "junit", "--output", str(tmp_path))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suite = next(s for s in root if s.get("name") == "BERGMANND1G1TAL00004 live")
    case = next(c for c in suite if c.get("name") == "WH007 events-extra")
    assert case.find("failure") is None and "customer.created" in case.find("system-out").text
    failed = [c.get("name") for c in suite if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) and "WH007 events-extra" not in failed


# --- logs for log shippers ----------------------------------------------------------------------------------


def _logged(tmp_path: Path, *flags: str) -> list[dict]:
    config, world, secrets = build_fleet(tmp_path / "fleet", tenants=2)
    first_key = next(iter(world))
    world[first_key]["faults"] = {"/v1/account": [429], "headers": {"Retry-After": "0"}}
    with StubStripe(world) as stub:
        result = audit(*flags, "--log-format", "json", "run", "--all-tenants", "--config", str(config),
                       "--stripe-api-base", stub.url, "--format", "json", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    for secret in secrets:
        assert secret not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines and result.stderr.splitlines()[-1].startswith("audit: 2 tenants")
    return [json.loads(line) for line in lines]


def test_log_format_json_names_tenant_and_environment_on_every_line_of_a_record(tmp_path) -> None:
    entries = _logged(tmp_path, "-v")
    retry = next(e for e in entries if "retrying /v1/account" in e["message"])
    assert retry["level"] == "info" and retry["company_id"] == "T000000000FLEET00000"[:20]
    assert retry["environment"] in ("stage", "live")
    assert not [e for e in entries if e["logger"].startswith(("stripe", "urllib3"))]  # the SDK only at -vv


def test_sdk_logs_appear_at_vv_with_the_tenant(tmp_path) -> None:
    entries = _logged(tmp_path, "-vv")
    sdk = [e for e in entries if e["logger"].startswith("stripe")]
    assert sdk and all(e["company_id"] and e["environment"] for e in sdk)
