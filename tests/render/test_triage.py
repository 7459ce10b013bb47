"""The first screen's answers: severity counts, top actions by records × severity, errors grouped by cause."""

from __future__ import annotations

from auditor.render.charts import status_by_environment
from auditor.render.triage import build_triage, normalise, plural
from auditor.results import CheckStatus
from tests.render import synthetic


def _error(company_id: str, environment: str, message: str, kind: str = "permission", status: int | None = 403):
    record = synthetic.record(company_id, f"Tenant {company_id[:4]}", environment, "error")
    for check in record.checks:
        if check.status is CheckStatus.ERROR:
            check.message, check.details = message, {"error_kind": kind, "http_status": status}
    return record


def test_top_actions_rank_records_by_severity_weight() -> None:
    s = synthetic
    records = [s.record(f"M{i:019d}", f"M{i}", "stage", "inline_secret") for i in range(6)]  # medium × 6
    records += [s.record("C0000000000000000001", "C", "live", "wrong_path")]  # critical × 1
    records += [s.record(f"I{i:019d}", f"I{i}", "live", "extra_events") for i in range(9)]  # info × 9: never an action
    triage = build_triage(s.run_of(records))
    assert [g.rule for g in triage.actions] == ["KEY007", "WH004"]  # 6 × 2 > 1 × 10
    assert [g.rule for g in triage.rules] == ["KEY007", "WH004", "WH007"]  # the by-rule view lists info too
    counts = {c.severity: (c.checks, c.records) for c in triage.by_severity}
    assert counts == {"critical": (1, 1), "high": (0, 0), "medium": (6, 6), "low": (0, 0), "info": (9, 9)}
    assert triage.rules[0].failing[0].anchor == "M0000000000000000000-stage"


def test_errors_are_grouped_by_kind_status_and_message_with_a_fix() -> None:
    records = [
        _error("A0000000000000000001", "live", "the key may not read this (HTTP 403) for /v1/account: req_AbC123xyz"),
        _error("B0000000000000000002", "live", "the key may not read this (HTTP 403) for /v1/account: req_ZZZ999qq"),
        _error("C0000000000000000003", "stage", "Stripe rejected the secret key (HTTP 401)", "authentication", 401),
        _error("D0000000000000000004", "stage", "the connection to Stripe failed", "connection", None),
    ]
    causes = build_triage(synthetic.run_of(records)).causes
    assert [(c.label, len(c.records)) for c in causes] == [
        ("permission (HTTP 403)", 2), ("authentication (HTTP 401)", 1), ("connection", 1)]
    assert "restricted key" in causes[0].fix and "Enter the record's current secret key" in causes[1].fix
    assert "proxy" in causes[2].fix
    assert causes[0].rules == {"WH002", "WH003", "WH004", "WH005", "WH006", "WH007", "WH008", "WH009"}


def test_a_checks_own_error_fix_wins() -> None:
    record = _error("A0000000000000000001", "live", "the key may not read this")
    for check in record.checks:
        fix = "Give the key the permission webhook_endpoints:read."
        check.remediation = fix if check.status.value == "error" else None
    [cause] = build_triage(synthetic.run_of([record])).causes
    assert cause.fix == "Give the key the permission webhook_endpoints:read."


def test_normalise_drops_what_differs_between_records() -> None:
    assert normalise("Failed for acct_1AbC (req_9xY) with sk_live_…4f2a") == normalise(
        "failed for acct_2ZzZ (req_77) with  sk_live_…9999")


def test_plural() -> None:
    assert (plural(1, "error"), plural(2, "error"), plural(1000, "record")) == ("1 error", "2 errors", "1,000 records")


def test_status_chart_has_room_for_its_longest_label() -> None:
    """The label "1,000 records" must not be clipped to "1,000 recorc" at the chart's right edge."""
    svg = status_by_environment({"stage": {"pass": 1000, "fail": 0, "error": 0}}, width=400)
    import re

    x = float(re.search(r'<text x="([\d.]+)"[^>]*>1,000 records</text>', svg).group(1))
    assert x + 6.6 * len("1,000 records") <= 400  # DejaVu Sans at 11 px: about 6.6 px a character
