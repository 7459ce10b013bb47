"""A large run's results go to disk as they arrive and are read back record by record (auditor.spool);
what a run writes is the same as a one-thread run holding every record in a list."""

from __future__ import annotations

import json
import os
import stat
from datetime import date, timedelta

import pytest

from auditor.audit import AuditPlan, run_audit
from auditor.collect.stripe_api import StripeSource
from auditor.config import load_tenants
from auditor.render import RenderOptions, get_renderer
from auditor.render.json import JsonRenderer
from auditor.results import CheckStatus, RecordFacts, RecordResult, RecordStatus, Severity
from auditor.spool import RecordSpool
from auditor.waivers import WaiverEntry, apply_waivers
from tests.faults.fleet import build_fleet, company_id, live_key
from tests.stub_stripe import StubStripe

TIMES = ("generated_at", "duration_seconds", "collected_at", "failed_events_since")


def record(n: int, status: RecordStatus = RecordStatus.PASS) -> RecordResult:
    return RecordResult(company_id=f"C{n}", tenant=f"Tenant {n}", environment="live", status=status, checks=[])


def test_the_spool_keeps_the_plans_order_whatever_the_arrival_order() -> None:
    spool = RecordSpool(4)
    for n in (2, 0, 3, 1):
        spool.put(n, record(n).model_dump_json())
    assert [r.company_id for r in spool] == ["C0", "C1", "C2", "C3"] and len(spool) == 4
    assert spool[-1].company_id == "C3" and [r.company_id for r in spool[1:3]] == ["C1", "C2"]
    spool[1] = record(9, RecordStatus.FAIL)  # a changed record is stored again at its place
    assert spool[1].company_id == "C9" and spool[1].status is RecordStatus.FAIL and len(spool) == 4
    assert spool == [record(0), record(9, RecordStatus.FAIL), record(2), record(3)]


def test_a_run_cut_short_keeps_the_records_it_has_and_the_file_is_private() -> None:
    spool = RecordSpool(3)
    spool.put(2, record(2).model_dump_json())
    assert [r.company_id for r in spool.complete()] == ["C2"]
    assert stat.S_IMODE(os.fstat(spool._file.fileno()).st_mode) == 0o600


def test_one_tenants_records_are_read_without_reading_the_others() -> None:
    """Per-tenant email cuts the run per contact: reading the whole spool each time would be quadratic."""
    from auditor.mail import tenant_run
    from auditor.results import RunResult

    spool = RecordSpool(3, companies=["C0", "C1", "C0"])
    spool.put(0, record(0).model_dump_json())
    spool.put(1, "not a record: decoding it would fail")
    spool.put(2, record(0, RecordStatus.FAIL).model_dump_json())
    run = RunResult()
    run.records = spool  # type: ignore[assignment]
    mine = tenant_run(run, "C0")
    assert [r.status for r in mine.records] == [RecordStatus.PASS, RecordStatus.FAIL]
    assert mine.summary == {"records": 2, "pass": 1, "fail": 1, "error": 0}


def _results_json(run) -> dict:
    data = json.loads(b"".join(JsonRenderer().chunks(run, RenderOptions())))
    data.pop("generated_at"), data.pop("duration_seconds")
    for rec in data["records"]:
        evidence = rec.get("evidence") or {}
        for key in TIMES:
            evidence.pop(key, None)
        for part in ("account", "webhook_endpoints", "failed_events"):  # the stub numbers its answers
            (evidence.get(f"{part}_error") or {}).pop("request_id", None)
    return data


@pytest.fixture(scope="module")
def fleet_runs(tmp_path_factory) -> tuple:
    """12 tenants with a 403, a failing events read and a missing endpoint: one thread in a list, and forked
    workers into the spool."""
    tmp = tmp_path_factory.mktemp("spool")
    config, world, _ = build_fleet(tmp / "fleet", tenants=12)
    world[live_key(world, 3)]["faults"] = {"status_forever": {"/v1/account": 403}}
    world[live_key(world, 5)]["faults"] = {"status_forever": {"/v1/events": 500}}
    world[live_key(world, 7)]["webhook_endpoints"] = []
    tenants = load_tenants(config)
    with StubStripe(world) as stub:
        def audit(**plan: int):
            source = StripeSource(api_base=stub.url, max_retries=1, sleep=lambda _: None)
            return run_audit(AuditPlan(tenants=tenants, config_path=str(config), **plan), source)

        one = audit(workers=1, processes=1, spool_above=10**9)
        forked = audit(workers=4, processes=2, spool_above=0)
    return one, forked


def test_forked_spooled_results_are_those_of_one_thread(fleet_runs) -> None:
    one, forked = fleet_runs
    assert isinstance(forked.records, RecordSpool) and isinstance(one.records, list)
    assert _results_json(forked) == _results_json(one)
    assert forked.summary == one.summary and forked.summary["error"] == 2 and forked.summary["fail"] == 1
    assert forked.exit_code() == one.exit_code() == 1


def test_the_spools_facts_and_texts_are_those_of_its_records(fleet_runs) -> None:
    """Summary, exit code, the table's choice and results.json read what the spool kept, not the records:
    what it kept must be what decoding each record would give (also for a record stored again, or as
    other JSON)."""
    _, forked = fleet_runs
    spool = forked.records
    spool.put(0, spool[0].model_dump_json())  # compact JSON and no facts, as an older caller stores a record
    spool[1] = spool[1]  # stored again, as a waiver does
    decoded = list(spool)
    assert spool.facts() == [RecordFacts.of(r) for r in decoded]
    assert list(spool.texts()) == [r.model_dump_json(indent=2) for r in decoded]
    assert {f.status for f in spool.facts()} == {RecordStatus.PASS, RecordStatus.FAIL, RecordStatus.ERROR}


def test_the_table_of_a_spooled_run_is_that_of_one_thread(fleet_runs) -> None:
    one, forked = fleet_runs
    table = get_renderer("table")
    assert table.render(forked, RenderOptions()) == table.render(one, RenderOptions())
    assert forked.tenant_count() == one.tenant_count() == 12
    for fail_on in Severity:
        assert forked.exit_code(fail_on) == one.exit_code(fail_on)


def test_a_waiver_on_a_spooled_run_is_kept(fleet_runs) -> None:
    _, forked = fleet_runs
    failing = next(r for r in forked.records if r.status is RecordStatus.FAIL)
    rule = failing.failing()[0].rule
    waiver = WaiverEntry(rule=rule, company_id=failing.company_id, environment=failing.environment,
                         reason="known", expires=date.today() + timedelta(days=30), approved_by="ops")
    apply_waivers(forked, [waiver], today=date.today())
    again = next(r for r in forked.records if (r.company_id, r.environment) ==
                 (failing.company_id, failing.environment))
    assert again.check(rule).status is CheckStatus.WAIVED and again.check(rule).waiver is not None
    assert forked.summary["fail"] == 0 and company_id(7) == failing.company_id
