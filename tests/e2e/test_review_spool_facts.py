"""Review: a spool's facts and texts stay aligned with its records, whatever was stored, replaced or missing."""

from __future__ import annotations

from auditor.render import RenderOptions, get_renderer
from auditor.results import RecordFacts, RecordResult, RunResult, Severity
from auditor.spool import RecordSpool, dumped
from tests.render.synthetic import fleet


def _spool(records: list[RecordResult], places: int | None = None, skip: frozenset[int] = frozenset()) -> RecordSpool:
    spool = RecordSpool(places or len(records), [r.company_id for r in records])
    for n in reversed(range(len(records))):  # arriving out of order
        if n not in skip:
            spool.put(n, *dumped(records[n]))
    return spool


def test_a_run_cut_short_keeps_facts_texts_and_records_in_step() -> None:
    records = list(fleet(15, seed=3).records)
    spool = _spool(records, skip=frozenset({0, 7, len(records) - 1})).complete()
    kept = [r for n, r in enumerate(records) if n not in {0, 7, len(records) - 1}]
    assert list(spool) == kept
    assert spool.facts() == [RecordFacts.of(r) for r in kept]
    assert list(spool.texts()) == [r.model_dump_json(indent=2) for r in kept]


def test_a_record_stored_again_by_any_index_replaces_its_facts() -> None:
    records = list(fleet(10, seed=4).records)
    spool = _spool(records)
    failing = next(r for r in records if r.failing(Severity.LOW))
    passing = next(r for r in records if not r.failing(Severity.INFO) and r.status.value == "pass")
    spool[-1] = failing
    spool[0] = passing
    spool.put(3, failing.model_dump_json())  # compact, no facts: read off the record when asked
    expected = [passing, *records[1:3], failing, *records[4:-1], failing]
    assert list(spool) == expected
    assert spool.facts() == [RecordFacts.of(r) for r in expected]
    assert list(spool.texts()) == [r.model_dump_json(indent=2) for r in expected]


def test_summary_exit_codes_tenants_table_and_json_of_a_spool_are_those_of_its_list() -> None:
    listed = fleet(40, seed=8)
    spooled = listed.model_copy()
    spooled.records = _spool(list(listed.records))  # type: ignore[assignment]
    for run in (listed, spooled):
        run.summarise()
    assert spooled.summary == listed.summary and spooled.tenant_count() == listed.tenant_count()
    for fail_on in Severity:
        assert spooled.exit_code(fail_on) == listed.exit_code(fail_on)
    for name, extra in (("table", {}), ("table", {"show_pass": True}), ("json", {}), ("junit", {})):
        options = RenderOptions(extra={"width": 100, **extra})
        assert get_renderer(name).render(spooled, options) == get_renderer(name).render(listed, options), name
    assert RunResult.from_json(get_renderer("json").render(spooled, RenderOptions()).decode()) == listed
