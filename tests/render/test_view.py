"""What the reports show, computed once: differences, compact rule lists, order, evidence lines, charts."""

from __future__ import annotations

from auditor.render.charts import status_by_environment, top_rules
from auditor.render.evidence_table import evidence_lines, evidence_row
from auditor.render.rule_order import rule_ranges
from auditor.render.url_diff import url_diff
from auditor.render.verdict import verdict
from auditor.render.view import build_view
from tests.render import synthetic


def test_url_diff_marks_what_to_delete_and_insert() -> None:
    found, expected = url_diff("http://x.test/v1/A/", "https://x.test/v1.0/A")
    assert [s.text for s in expected if s.op == "ins"] == ["s", ".0"]
    assert [s.text for s in found if s.op == "del"] == ["/"]
    assert "".join(s.text for s in found) == "http://x.test/v1/A/"
    assert "".join(s.text for s in expected) == "https://x.test/v1.0/A"


def test_url_diff_shows_an_unrelated_company_id_whole() -> None:
    """Two different companyIDs are shown wrong beside right, whole: a letter-by-letter diff of them is unreadable."""
    found, expected = url_diff("https://h/callbacks/v1.0/stripe/K1ELERRUNDSCHAU00005",
                               "https://h/callbacks/v1.0/stripe/8XYM4WU2V6NJUM5LZ6C9")
    assert [s.text for s in found if s.op == "del"] == ["K1ELERRUNDSCHAU00005"]
    assert [s.text for s in expected if s.op == "ins"] == ["8XYM4WU2V6NJUM5LZ6C9"]
    found, expected = url_diff("https://h/stripe/AAAA1111", "https://h/stripe/BBBB1111")  # ratio 0.5: unrelated
    assert [s.text for s in expected if s.op == "ins"] == ["BBBB1111"]


def test_url_diff_marks_a_near_miss_letter_by_letter() -> None:
    found, expected = url_diff("https://h/stripe/ACME0000000000000001", "https://h/stripe/ACME0000000000000002")
    assert [s.text for s in found if s.op == "del"] == ["1"] and [s.text for s in expected if s.op == "ins"] == ["2"]
    found, expected = url_diff("https://h/callbacks/v1/stripe/X", "https://h/callbacks/v1.0/stripe/X")
    assert [s.text for s in expected if s.op == "ins"] == [".0"] and not [s for s in found if s.op == "del"]


def test_rule_ranges_are_compact_and_in_catalogue_order() -> None:
    rules = ["TEN001", "WH002", "WH003", "WH004", "ACC001", "ACC002", "KEY001", "KEY002", "KEY003", "WH009", "TEN003"]
    assert rule_ranges(rules) == "ACC001, ACC002, KEY001–003, WH002–004, WH009, TEN001, TEN003"
    assert rule_ranges([]) == ""


def _run():
    s = synthetic
    return s.run_of([
        s.record("A0000000000000000001", "Alpha", "live", "pass"),
        s.record("B0000000000000000002", "Beta", "live", "extra_events"),  # info only: still passes
        s.record("C0000000000000000003", "Gamma", "stage", "inline_secret"),  # medium
        s.record("C0000000000000000003", "Gamma", "live", "pass"),
        s.record("D0000000000000000004", "Delta", "live", "wrong_path"),  # critical
        s.record("E0000000000000000005", "Epsilon", "stage", "error"),
    ])


def test_worst_first_errors_then_failures_by_severity() -> None:
    view = build_view(_run())
    assert [row.tenant for row in view.matrix] == ["Epsilon", "Delta", "Gamma", "Beta", "Alpha"]
    assert [rv.record.tenant for rv in view.records] == ["Epsilon", "Delta", "Gamma", "Beta"]
    assert [row.tenant for row in view.clean_rows] == ["Alpha"]
    gamma = view.matrix[2]
    assert gamma.cells["stage"].failing == ["KEY007"] and gamma.cells["live"].status == "pass"
    assert view.matrix[3].cells["live"].info == ["WH007"] and view.matrix[3].cells["stage"] is None


def test_counts_and_verdict() -> None:
    view = build_view(_run())
    assert view.by_status == {"pass": 3, "fail": 2, "error": 1}
    assert view.by_env == {"stage": {"pass": 0, "fail": 1, "error": 1}, "live": {"pass": 3, "fail": 1, "error": 0}}
    assert view.verdict.kind == "fail" and "2 of 6 records" in view.verdict.detail
    ok = synthetic.run_of([synthetic.record("A0000000000000000001", "Alpha", "live")])
    assert verdict(ok).kind == "pass" and verdict(synthetic.run_of([])).kind == "error"


def test_errors_with_one_reason_are_one_group() -> None:
    view = build_view(_run())
    epsilon = view.records[0]
    assert len(epsilon.errors) == 1 and epsilon.errors[0].rules == "WH002–009"
    assert epsilon.record_error is None  # the group says it already


def test_evidence_lines_are_fixed_width_and_complete() -> None:
    run = _run()
    delta = evidence_lines(evidence_row(run.records[4]))
    assert delta[0].startswith("D0000000000000000004 live  sk_live_…")
    assert "https://callbacks.plenigo.com/callbacks/v1/stripe/D0000000000000000004/" in delta[0]
    assert " y y y " in delta[0] and " enabled " in delta[0] and " live " in delta[0]
    epsilon = evidence_lines(evidence_row(run.records[5]))
    assert epsilon[-1].strip().startswith("error /v1/webhook_endpoints: permission HTTP 403")


def test_charts_escape_labels_and_draw_every_status() -> None:
    svg = status_by_environment({"<stage>": {"pass": 3, "fail": 1, "error": 1}})
    assert "&lt;stage&gt;" in svg and "<stage>" not in svg and svg.count("<rect") == 3 + 1 + 3  # track, bars, legend
    assert top_rules([]) == ""
    assert "WH006</tspan> events-complete" in top_rules([("WH006", "events-complete", 4)])
