"""What the compliance email shows: the first screen of the report, short enough to read above the fold.

The email is read on a phone between meetings: counts by status and severity, the few
actions that fix the most, the errors by cause, what changed (one row per record, a few
per kind), then at most :data:`EMAIL_ROWS` rows per list with "and N more" pointing at the
attached PDF or the published report (``--report-url``). Every row carries its severity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.changes import Change, Changes
from auditor.render.charts import SEVERITY_COLORS
from auditor.render.ranking import has_findings, worst_first
from auditor.render.rule_order import rule_ranges
from auditor.render.templating import when
from auditor.render.triage import build_triage, plural, record_anchor
from auditor.results import CheckResult, CheckStatus, RecordResult, RecordStatus, RunResult

EMAIL_ROWS = 20  # rows per list (records with findings, waived checks)
CHANGE_ROWS = 5  # records per kind of change (new failures, new errors, resolved): the first screen stays one screen


@dataclass(frozen=True)
class EmailRow:
    """One record with findings: its worst severity, status and the rules that failed or errored."""

    severity: str
    status: str
    tenant: str
    company_id: str
    environment: str
    rules: str

    @property
    def anchor(self) -> str:
        return record_anchor(self.company_id, self.environment)


@dataclass(frozen=True)
class ChangeRow:
    """One record's changes of one kind: the worst severity, the rules, and what the worst finding says."""

    severity: str
    tenant: str
    company_id: str
    environment: str
    rules: str
    message: str
    linked: bool = True  # the report has a section for the record (a resolved one that now passes has none)

    @property
    def anchor(self) -> str:
        return record_anchor(self.company_id, self.environment)


def change_rows(changes: list[Change], sections: frozenset[str] = frozenset()) -> list[ChangeRow]:
    """One row per record, most severe first: a 403 stops eight checks at once, and that is one row, not eight."""
    by_record: dict[tuple[str, str], list[Change]] = {}
    for change in changes:  # compare() lists them most severe first, so a record's first change is its worst
        by_record.setdefault((change.company_id, change.environment), []).append(change)
    rows = []
    for group in by_record.values():
        worst = group[0]
        others = len({c.message for c in group}) - 1
        message = worst.message + (f" (and {plural(others, 'other finding')})" if others else "")
        rows.append(ChangeRow(worst.severity, worst.tenant, worst.company_id, worst.environment,
                              rule_ranges([c.rule for c in group]), message,
                              record_anchor(worst.company_id, worst.environment) in sections))
    return rows


def change_lists(changes: Changes | None, run: RunResult) -> list[tuple[str, int, list[ChangeRow]]]:
    """(title, findings, rows per record) for new failures, new errors and resolved findings, news first."""
    if changes is None:
        return []
    sections = frozenset(record_anchor(r.company_id, r.environment) for r in run.records if has_findings(r))
    kinds = [("New failures", changes.new_failures), ("New errors", changes.new_errors), ("Resolved", changes.resolved)]
    return [(title, len(items), change_rows(items, sections)) for title, items in kinds if items]


def _worst(checks: list[CheckResult]) -> str:
    return max(checks, key=lambda c: c.severity.rank).severity.value if checks else "info"


def email_row(record: RecordResult) -> EmailRow:
    bad = [c for c in record.checks if c.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
    return EmailRow(_worst(bad), record.status.value, record.tenant, record.company_id, record.environment,
                    rule_ranges([c.rule for c in bad]))


def where_text(attached: bool, report_url: str | None) -> str:
    """Where the rest is: the attached PDF, the published report, or both."""
    places = (["the attached PDF report"] if attached else []) + ([report_url] if report_url else [])
    return " and ".join(places) or "report.html and results.json of this run"


def email_context(run: RunResult, changes: Changes | None, heading: str, attached: bool = True,
                  report_url: str | None = None, limit: int = EMAIL_ROWS,
                  change_limit: int = CHANGE_ROWS) -> dict[str, Any]:
    """The context of email.html.j2 and email.txt.j2."""
    rows = [email_row(r) for r in worst_first(run.records) if r.status is not RecordStatus.PASS]
    waived = [(r, c) for r in run.records for c in r.checks if c.status is CheckStatus.WAIVED]
    return dict(run=run, changes=changes, change_lists=change_lists(changes, run), heading=heading,
                generated=when(run.generated_at), triage=build_triage(run), rows=rows, waived=waived, limit=limit,
                change_limit=change_limit, report_url=report_url, where=where_text(attached, report_url),
                colors=SEVERITY_COLORS)
