"""A record's findings as the reports list them: error groups, failed and waived checks with concrete details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.render.rule_order import rule_key, rule_ranges
from auditor.render.url_diff import Segment, url_diff
from auditor.results import CheckResult, CheckStatus, RecordResult


@dataclass
class Finding:
    """A failed, errored or waived check, its details made concrete for the reader."""

    check: CheckResult
    diff_found: list[Segment] = field(default_factory=list)
    diff_expected: list[Segment] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    lists: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class ErrorGroup:
    """Checks that could not be run for one reason (a 403 stops every webhook rule at once)."""

    message: str
    checks: list[CheckResult]

    @property
    def severity(self) -> str:
        return max(self.checks, key=lambda c: c.severity.rank).severity.value

    @property
    def rules(self) -> str:
        return rule_ranges([c.rule for c in self.checks])


@dataclass
class RecordView:
    record: RecordResult
    errors: list[ErrorGroup]
    findings: list[Finding]  # failed and waived checks, most severe first
    passing: list[CheckResult]
    skipped: list[CheckResult]

    @property
    def record_error(self) -> str | None:
        """The record's own error, unless the error groups already say it."""
        error = self.record.error
        return error if error and all(g.message != error for g in self.errors) else None

    @property
    def passing_rules(self) -> str:
        return rule_ranges([c.rule for c in self.passing])

    @property
    def skipped_rules(self) -> str:
        return rule_ranges([c.rule for c in self.skipped])


def record_view(record: RecordResult) -> RecordView:
    passing: list[CheckResult] = []
    skipped: list[CheckResult] = []
    flagged: list[CheckResult] = []
    for check in record.checks:  # one pass; only the few flagged checks need sorting
        (passing if check.status is CheckStatus.PASS else skipped if check.status is CheckStatus.SKIPPED
         else flagged).append(check)
    ordered = sorted(flagged, key=lambda c: (-c.severity.rank, c.rule))
    groups: dict[str, list[CheckResult]] = {}
    for check in ordered:
        if check.status is CheckStatus.ERROR:
            groups.setdefault(check.message, []).append(check)
    shown = (CheckStatus.FAIL, CheckStatus.WAIVED)
    return RecordView(
        record=record,
        errors=[ErrorGroup(message, sorted(checks, key=rule_key)) for message, checks in groups.items()],
        findings=[finding(c) for c in ordered if c.status in shown],
        passing=passing,
        skipped=skipped,
    )



# details that repeat the message or are for machines only
_HIDDEN = frozenset({"problems", "error_kind", "http_status"})


def finding(check: CheckResult) -> Finding:
    """A check with its details made concrete: URL differences marked, lists as lists."""
    result = Finding(check=check)
    details = {k: v for k, v in check.details.items() if k not in _HIDDEN and v not in (None, [], {}, "")}
    expected, found = details.get("expected"), details.get("found")
    if isinstance(expected, str) and isinstance(found, str):
        result.diff_found, result.diff_expected = url_diff(found, expected)
        del details["expected"], details["found"]
    result.lists = [(_label(k), [_plain(i) for i in v]) for k, v in details.items() if isinstance(v, (list, tuple))]
    result.details = [(_label(k), _plain(v)) for k, v in details.items() if not isinstance(v, (list, tuple))]
    return result


def _label(key: str) -> str:
    return key.replace("_", " ")


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
