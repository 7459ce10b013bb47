"""What changed between two runs: the news first (new failures, resolved, new errors).

Used by the reports' "changes since the previous run" section, ``audit diff``
and the compliance email. A finding is identified by (company ID, environment,
rule), so a tenant renamed in the file is still the same finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.results import CheckResult, CheckStatus, RunResult

FindingKey = tuple[str, str, str]  # company_id, environment, rule


@dataclass(frozen=True)
class Change:
    company_id: str
    tenant: str
    environment: str
    rule: str
    severity: str
    message: str


@dataclass(frozen=True)
class Changes:
    previous_generated_at: str
    new_failures: list[Change] = field(default_factory=list)
    resolved: list[Change] = field(default_factory=list)
    new_errors: list[Change] = field(default_factory=list)
    still_failing: list[Change] = field(default_factory=list)
    new_records: list[tuple[str, str]] = field(default_factory=list)
    removed_records: list[tuple[str, str]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.new_failures or self.resolved or self.new_errors or self.new_records or self.removed_records)


def _change(company_id: str, tenant: str, environment: str, check: CheckResult) -> Change:
    return Change(company_id, tenant, environment, check.rule, check.severity.value, check.message)


def _order(changes: list[Change]) -> list[Change]:
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    return sorted(changes, key=lambda c: (rank.get(c.severity, 9), c.company_id, c.environment, c.rule))


def compare(previous: RunResult, current: RunResult) -> Changes:
    """Findings that appeared, disappeared or stayed between ``previous`` and ``current``.

    Each run's records are read once (a spooled run decodes each record once),
    the previous run first. Held meanwhile is what the answer is made of: the
    failed and errored checks, each run's record keys, and of the current run's
    other checks only the status of those that failed before (whether they are
    resolved). Keeping every check's status of a 10,000-tenant run took hundreds of MB.
    """
    old_fail: dict[FindingKey, Change] = {}
    old_err: set[FindingKey] = set()
    old_records: set[tuple[str, str]] = set()
    for record in previous.records:
        old_records.add((record.company_id, record.environment))
        for check in record.checks:
            if check.status is CheckStatus.FAIL:
                old_fail[(record.company_id, record.environment, check.rule)] = _change(
                    record.company_id, record.tenant, record.environment, check)
            elif check.status is CheckStatus.ERROR:
                old_err.add((record.company_id, record.environment, check.rule))
    new_fail: dict[FindingKey, Change] = {}
    new_err: dict[FindingKey, Change] = {}
    new_records: set[tuple[str, str]] = set()
    now: dict[FindingKey, CheckStatus] = {}  # the current status of each previous failure (its last check's)
    for record in current.records:
        new_records.add((record.company_id, record.environment))
        for check in record.checks:
            key = (record.company_id, record.environment, check.rule)
            if key in old_fail:
                now[key] = check.status
            if check.status is CheckStatus.FAIL:
                new_fail[key] = _change(record.company_id, record.tenant, record.environment, check)
            elif check.status is CheckStatus.ERROR:
                new_err[key] = _change(record.company_id, record.tenant, record.environment, check)
    # resolved means checked and passing (or waived) now; an error or a record not audited proves nothing
    resolved = [c for k, c in old_fail.items() if now.get(k) in (CheckStatus.PASS, CheckStatus.WAIVED)]
    return Changes(
        previous_generated_at=previous.generated_at.isoformat(),
        new_failures=_order([c for k, c in new_fail.items() if k not in old_fail]),
        resolved=_order(resolved),
        new_errors=_order([c for k, c in new_err.items() if k not in old_err]),
        still_failing=_order([c for k, c in new_fail.items() if k in old_fail]),
        new_records=sorted(new_records - old_records),
        removed_records=sorted(old_records - new_records),
    )
