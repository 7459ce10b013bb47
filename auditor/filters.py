"""``--severity`` and ``--rule``: which checks a run shows and reports, in every format alike.

A filter keeps the chosen checks and drops the others before anything is
rendered, so the table, results.json, the reports, CSV and JUnit tell one
story; each record's status (and so the exit code) is decided again from the
checks kept. Filtering is pure: it returns a new run and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.results import CheckResult, RecordResult, RunResult, Severity


def filter_run(run: RunResult, min_severity: Severity | None = None, rules: Iterable[str] = ()) -> RunResult:
    """The run with only the checks of ``rules`` (IDs) at or above ``min_severity``; no filter, the run itself."""
    wanted = {r.upper() for r in rules}
    if min_severity is None and not wanted:
        return run

    def keep(check: CheckResult) -> bool:
        return (not wanted or check.rule.upper() in wanted) and (
            min_severity is None or check.severity.at_least(min_severity))

    records = [_filtered(record, [c for c in record.checks if keep(c)]) for record in run.records]
    filtered = run.model_copy(update={"records": records})
    filtered.summarise()
    return filtered


def _filtered(record: RecordResult, checks: list[CheckResult]) -> RecordResult:
    return record.model_copy(update={"checks": checks, "status": RecordResult.status_of(checks)})
