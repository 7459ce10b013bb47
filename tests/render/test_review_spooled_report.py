"""Review: a spooled run's reports are those of the same records held in a list.

A spool (auditor.spool) decodes new record objects on every pass and frees them
at once; anything a renderer remembers by ``id()`` from one pass finds other
records under the recycled ids in the next.
"""

from __future__ import annotations

from auditor.render import RenderOptions, get_renderer
from auditor.render.ranking import ranks_of, worst_first
from auditor.render.view import build_view
from auditor.results import RunResult
from auditor.spool import RecordSpool
from tests.render.synthetic import fleet


def _spooled(run: RunResult) -> RunResult:
    spool = RecordSpool(len(run.records), [r.company_id for r in run.records])
    for n, record in enumerate(run.records):
        spool.put(n, record.model_dump_json())
    copy = run.model_copy()
    copy.records = spool  # type: ignore[assignment]  # a Sequence of RecordResult, as run_audit makes it
    return copy


def test_the_report_view_of_a_spool_ranks_each_record_by_itself() -> None:
    listed = fleet(60, seed=5)
    spooled = _spooled(listed)
    ours, theirs = build_view(spooled), build_view(listed)
    assert [(r.company_id, r.rank) for r in ours.matrix] == [(r.company_id, r.rank) for r in theirs.matrix]
    assert [(v.record.company_id, v.record.environment) for v in ours.records] == \
           [(v.record.company_id, v.record.environment) for v in theirs.records]
    order = [(r.company_id, r.environment) for r in worst_first(spooled.records, ranks_of(spooled.records))]
    assert order == [(r.company_id, r.environment) for r in worst_first(listed.records, ranks_of(listed.records))]


def test_the_html_report_of_a_spool_is_that_of_the_list() -> None:
    listed = fleet(40, seed=9)
    html = get_renderer("html")
    assert html.render(_spooled(listed), RenderOptions()) == html.render(listed, RenderOptions())
