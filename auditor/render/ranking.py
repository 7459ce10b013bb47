"""Worst first: the order in which the matrix, the findings and the email list records."""

from __future__ import annotations

from auditor.results import CheckStatus, RecordResult, RecordStatus

_STATUS_RANK = {RecordStatus.ERROR: 0, RecordStatus.FAIL: 1, RecordStatus.PASS: 2}
SHOWN = (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED)  # the statuses a finding section lists

RecordRank = tuple[int, int, int, int]


def has_findings(record: RecordResult) -> bool:
    return record.status is not RecordStatus.PASS or any(c.status in SHOWN for c in record.checks)



def record_rank(record: RecordResult) -> RecordRank:
    """Smaller is worse: status, then the most severe failure, then how many, then info and waived findings."""
    worst = max((c.severity.rank for c in record.checks if c.counts_as_failure), default=-1)
    shown = sum(1 for c in record.checks if c.status in SHOWN)
    return (_STATUS_RANK[record.status], -worst, -len(record.failing()), -shown)


def worst_first(records: list[RecordResult]) -> list[RecordResult]:
    """Errors first (could not be audited), then failures by their worst severity and count."""
    return sorted(records, key=lambda r: (*record_rank(r), r.tenant.casefold(), r.company_id, r.environment))
