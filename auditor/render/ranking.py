"""Worst first: the order in which the matrix, the findings and the email list records."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.results import CheckStatus, RecordResult, RecordStatus, Severity

_STATUS_RANK = {RecordStatus.ERROR: 0, RecordStatus.FAIL: 1, RecordStatus.PASS: 2}
SHOWN = (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED)  # the statuses a finding section lists

RecordRank = tuple[int, int, int, int]


def has_findings(record: RecordResult) -> bool:
    return record.status is not RecordStatus.PASS or any(c.status in SHOWN for c in record.checks)


def record_rank(record: RecordResult) -> RecordRank:
    """Smaller is worse: status, then the most severe failure, then how many, then info and waived findings.

    One pass over the checks: a fleet's report ranks some 2,000 records of 25 checks each.
    """
    worst, failing, shown = -1, 0, 0
    for check in record.checks:
        status = check.status
        if status is CheckStatus.FAIL:
            failing += 1
            shown += 1
            if check.severity is not Severity.INFO:  # info never fails a record
                worst = max(worst, check.severity.rank)
        elif status is CheckStatus.ERROR or status is CheckStatus.WAIVED:
            shown += 1
    return (_STATUS_RANK[record.status], -worst, -failing, -shown)


def ranks_of(records: Iterable[RecordResult]) -> dict[int, RecordRank]:
    """Each record's rank by ``id()``: computed once for the matrix and the findings.

    Only for records held in a list: a spooled run (``auditor.spool``) decodes new objects on each pass,
    freed at once, so a later pass's records would find the ranks of others under their recycled ids.
    Those are ranked as they come (nothing is known).
    """
    if not isinstance(records, list):
        return {}
    return {id(r): record_rank(r) for r in records}


def worst_first(records: list[RecordResult], ranks: dict[int, RecordRank] | None = None) -> list[RecordResult]:
    """Errors first (could not be audited), then failures by their worst severity and count."""
    known = ranks or {}

    def key(r: RecordResult) -> tuple[int, int, int, int, str, str, str]:
        return (*(known.get(id(r)) or record_rank(r)), r.tenant.casefold(), r.company_id, r.environment)

    return sorted(records, key=key)
