"""samples/schedule: every scheduler treats the exit codes by one table, keeps history, and CI publishes JUnit."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ops import SAMPLES, audit_command, run_audit

SCHEDULE = SAMPLES / "schedule"
WRAPPER = SCHEDULE / "audit-scheduled.sh"
SUCCEEDS = {0, 1, 3}
TABLE = {0: "every audited record passed", 1: "findings", 2: "configuration error", 3: "could not be audited",
         4: "email could not be sent", 5: "email could not be sent", 70: "internal error", 130: "interrupted",
         143: "interrupted"}


def _fake_audit(tmp_path: Path, code: int) -> Path:
    script = tmp_path / f"audit-{code}"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      "open(sys.argv[0] + '.args', 'w').write(' '.join(sys.argv[1:]))\n"
                      f"sys.exit({code})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize("code", sorted(TABLE))
def test_the_wrapper_maps_each_exit_code_by_the_table(tmp_path, code) -> None:
    fake = _fake_audit(tmp_path, code)
    result = subprocess.run(["/bin/sh", str(WRAPPER), "--all-tenants", "--config", "t.toml"], cwd=tmp_path,
                            env={"AUDIT": str(fake), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == (0 if code in SUCCEEDS else code)
    assert f"exit {code}: " in result.stderr and TABLE[code] in result.stderr
    assert Path(str(fake) + ".args").read_text() == "run --all-tenants --config t.toml"


def test_the_wrapper_runs_the_real_audit_on_the_samples(tmp_path) -> None:
    env = {"AUDIT": " ".join(audit_command())} if len(audit_command()) == 1 else None
    if env is None:
        pytest.skip("no installed audit console script in this environment")
    result = subprocess.run([str(WRAPPER), "--all-tenants", "--config", str(SAMPLES / "tenants.toml"), "--evidence",
                             str(SAMPLES / "evidence"), "--format", "json,junit,prometheus", "--output", "latest",
                             "--history", "history", "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", **env}, timeout=600)
    assert result.returncode == 0, result.stderr  # the samples' findings are a result (exit 1), not a failed job
    assert "exit 1: findings" in result.stderr
    assert {p.name for p in (tmp_path / "latest").iterdir()} == {"results.json", "junit.xml", "metrics.prom"}
    assert len(list((tmp_path / "history").glob("results-*.json"))) == 1


def _wrapper_success_set() -> set[int]:
    line = re.search(r"^\s*([0-9|]+)\) exit 0 ;;", WRAPPER.read_text(), re.MULTILINE).group(1)
    return {int(c) for c in line.split("|")}


def test_every_scheduler_agrees_on_the_table_and_keeps_history() -> None:
    assert _wrapper_success_set() == SUCCEEDS
    service = (SCHEDULE / "plenigo-stripe-audit.service").read_text()
    success = re.search(r"^SuccessExitStatus=(.*)$", service, re.MULTILINE).group(1).split()
    assert {0, *map(int, success)} == SUCCEEDS
    cron = (SCHEDULE / "plenigo-stripe-audit.cron").read_text()
    job = yaml.safe_load((SCHEDULE / "cronjob.yaml").read_text())
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    workflow = yaml.safe_load((SCHEDULE / "github-actions.yml").read_text())
    steps = workflow["jobs"]["audit"]["steps"]
    audit_step = next(s for s in steps if s.get("name") == "Audit the fleet")
    assert "audit-scheduled.sh" in cron and "audit-scheduled.sh" in " ".join(container["command"])
    assert "audit-scheduled.sh" in audit_step["run"]
    for invocation in (cron, " ".join(container["args"]), audit_step["run"], service):
        assert "--history" in invocation and "prometheus" in invocation
    assert "SuccessExitStatus" not in cron and "|| test" not in audit_step["run"]  # no second, different mapping


def test_ci_publishes_the_junit_file_as_a_test_report() -> None:
    workflow = yaml.safe_load((SCHEDULE / "github-actions.yml").read_text())
    steps = workflow["jobs"]["audit"]["steps"]
    audit_step = next(s for s in steps if s.get("name") == "Audit the fleet")
    assert "junit" in audit_step["run"] and "--output reports" in audit_step["run"]
    report = next(s for s in steps if "junit-report" in s.get("uses", ""))
    assert report["with"]["report_paths"] == "reports/junit.xml" and report["if"] == "always()"
    assert workflow["permissions"]["checks"] == "write"
    saved = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save"))
    assert saved["with"]["path"] == "history/" and saved["if"] == "always()"


def test_the_alert_rules_use_metrics_the_audit_writes(tmp_path) -> None:
    out = tmp_path / "out"
    result = run_audit(["run", "--all-tenants", "--config", str(SAMPLES / "tenants.toml"), "--evidence",
                        str(SAMPLES / "evidence"), "--format", "prometheus", "--output", str(out)], tmp_path)
    assert result.returncode == 1, result.stderr
    written = set(re.findall(r"^# TYPE (\S+) ", (out / "metrics.prom").read_text(), re.MULTILINE))
    rules = yaml.safe_load((SCHEDULE / "prometheus-alerts.yml").read_text())["groups"][0]["rules"]
    used = {m for rule in rules for m in re.findall(r"plenigo_stripe_audit_[a-z_]+", rule["expr"])}
    assert used and used <= written
    assert {r["alert"] for r in rules} >= {"PlenigoStripeAuditNotRun", "PlenigoStripeAuditCriticalFindings",
                                           "PlenigoStripeAuditRecordsFailing"}
    not_run = next(r for r in rules if r["alert"] == "PlenigoStripeAuditNotRun")["expr"]
    assert "26 * 3600" in not_run and "absent(" in not_run
    for rule in rules:
        for label in re.findall(r"\$labels\.(\w+)", str(rule.get("annotations"))):
            assert label in rule["expr"], (rule["alert"], label)  # only labels the expression keeps
