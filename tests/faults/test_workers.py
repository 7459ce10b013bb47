"""Forked worker processes: a slow record costs only time, a dead worker only its own records.

Real forks, a real Stripe stub on loopback and real signals (a worker kills
itself with SIGKILL); no clocks are asserted.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from auditor.audit import AuditPlan, run_audit
from auditor.cli import main
from auditor.collect.offline import OfflineSource
from auditor.config import Record, Tenant, load_tenants
from auditor.evidence import RecordEvidence
from auditor.parallel import in_processes
from tests.faults.fleet import build_fleet, company_id, live_key
from tests.stub_stripe import StubStripe

DIED = "the worker process auditing this record died (signal 9)"


def test_a_record_waiting_on_retry_after_does_not_end_a_forked_fleet_run(tmp_path, capsys) -> None:
    """420 records on 2 processes; the last record gets a 429 with Retry-After: 3.

    The other process finishes seconds earlier and nothing arrives meanwhile;
    a worker that exited after delivering everything is done, not dead.
    """
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=210)
    world[live_key(world, 209)]["faults"] = {"/v1/account": [429], "headers": {"Retry-After": "3"}}
    with StubStripe(world) as stub:
        code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                     "--workers", "8", "--processes", "2", "--format", "json", "--output", str(tmp_path / "out"),
                     "--quiet"])
        hits = [r for r in stub.requests if r[1] == "/v1/account"]
    capsys.readouterr()
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert code == 0
    assert results["summary"] == {"records": 420, "pass": 420, "fail": 0, "error": 0}
    assert len(hits) == 421, "the 429 was retried once, after Retry-After"


def _work_that_kills_its_worker(victim: int):
    def work(i: int) -> str:
        if i == victim:
            os.kill(os.getpid(), signal.SIGKILL)
        return f"done {i}"
    return work


def test_a_killed_worker_costs_only_its_own_undelivered_jobs() -> None:
    """Worker 1 (odd jobs) is killed by SIGKILL at job 7: every job still comes back exactly once.

    Worker 0's jobs are all real results; job 7 and whatever worker 1 had not
    delivered come back through ``lost`` with the signal named.
    """
    got = dict(in_processes(40, _work_that_kills_its_worker(7), workers=2, processes=2, encode=str, decode=str,
                            lost=lambda i, reason: f"lost {i}: {reason}"))
    assert sorted(got) == list(range(40))
    assert all(got[i] == f"done {i}" for i in range(0, 40, 2)), "the other worker's jobs are untouched"
    assert got[7] == f"lost 7: {DIED}"
    lost = [i for i, text in got.items() if text.startswith("lost")]
    assert all(i % 2 == 1 for i in lost)
    assert all(got[i] == f"lost {i}: {DIED}" for i in lost)


class _KillerSource(OfflineSource):
    """Kills the worker process that collects ``victim``'s live record (as the OOM killer would)."""

    def __init__(self, victim: str):
        self.victim = victim

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        if tenant.company_id == self.victim and record.environment.value == "live":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().collect(tenant, record)


def test_a_fleet_run_reports_a_dead_workers_records_as_errors(tmp_path: Path) -> None:
    """Through run_audit: the killed worker's undelivered records are ``error`` naming the death; the rest audited."""
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=12)
    plan = AuditPlan(tenants=load_tenants(config), workers=2, processes=2)
    run = run_audit(plan, _KillerSource(company_id(5)))
    records = {(r.company_id, r.environment): r for r in run.records}
    assert len(run.records) == 24 and [(r.company_id, r.environment) for r in run.records] == [
        (company_id(i), env) for i in range(12) for env in ("stage", "live")]
    victim = records[(company_id(5), "live")]
    assert victim.status.value == "error" and DIED in victim.error
    errored = [r for r in run.records if r.status.value == "error"]
    assert all(DIED in r.error for r in errored)
    assert all(r.environment == "live" for r in errored), "worker 0 (the stage records) delivered everything"
    assert all(r.status.value == "pass" for r in run.records if r.environment == "stage")
