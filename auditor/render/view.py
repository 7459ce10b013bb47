"""What the HTML and PDF reports (and later the email and checklist) show, derived once from a RunResult.

Templates stay dumb: counts, the worst-first matrix, the findings with their
URL differences, the most frequently failing rules, the evidence rows and the
changes since a previous run are all computed here, in plain Python that is
easy to test.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from auditor.changes import Changes, compare
from auditor.evidence import FetchError
from auditor.results import CheckResult, CheckStatus, RecordResult, RecordStatus, RunResult
from auditor.rules.endpoints import points_at_plenigo

ENVIRONMENTS = ("stage", "live")
STATUSES = tuple(s.value for s in RecordStatus)  # pass, fail, error
_STATUS_RANK = {RecordStatus.ERROR: 0, RecordStatus.FAIL: 1, RecordStatus.PASS: 2}
_SHOWN = (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED)
MODES = {
    "online": "asked Stripe (read-only)",
    "offline": "offline: Stripe not asked, Stripe rules skipped",
    "evidence": "re-audited from saved evidence",
}


@dataclass(frozen=True)
class Segment:
    """A piece of a URL difference: ``same``, ``del`` (only in found) or ``ins`` (only in expected)."""

    op: str
    text: str


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


@dataclass
class Cell:
    """One record in the matrix: its status and the rules that failed or errored."""

    status: str
    failing: list[str]
    info: list[str]
    errors: list[str]
    waived: list[str]

    @property
    def rules(self) -> str:
        """Errored and failed rules, compactly (``WH002–009``)."""
        return ", ".join(p for p in (rule_ranges(self.errors), rule_ranges(self.failing)) if p)

    @property
    def mixed(self) -> bool:
        return bool(self.errors and self.failing)

    @property
    def has_findings(self) -> bool:
        """The record has a section in the findings (the matrix links to it)."""
        return self.status != "pass" or bool(self.failing or self.info or self.errors or self.waived)


@dataclass
class MatrixRow:
    company_id: str
    tenant: str
    cells: dict[str, Cell | None]
    rank: tuple

    @property
    def clean(self) -> bool:
        """Every record of the tenant passed, with no finding of any kind."""
        return all(c is None or (c.status == "pass" and not (c.failing or c.info or c.errors or c.waived))
                   for c in self.cells.values())

    @property
    def environments(self) -> list[str]:
        return [env for env, cell in self.cells.items() if cell is not None]


@dataclass
class EndpointRow:
    id: str
    url: str
    status: str
    events: int
    wildcard: bool
    livemode: bool | None
    description: str | None


@dataclass
class EvidenceRow:
    """What Stripe answered for one record, flattened for a table row."""

    company_id: str
    tenant: str
    environment: str
    present: bool
    not_asked: str | None = None
    key_hint: str | None = None
    account_id: str | None = None
    flags: tuple[bool | None, bool | None, bool | None] | None = None  # charges, payouts, details submitted
    endpoints: list[EndpointRow] | None = None
    failed_events: int | None = None
    failed_truncated: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    """The one line at the top: ``pass``, ``fail`` or ``error``, a headline and a detail."""

    kind: str
    headline: str
    detail: str = ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def verdict(run: RunResult) -> Verdict:
    total = len(run.records)
    counts = Counter(r.status for r in run.records)
    failed, errored = counts[RecordStatus.FAIL], counts[RecordStatus.ERROR]
    if not total:
        return Verdict("error", "No record was audited.")
    if failed:
        detail = f"{failed:,} of {_plural(total, 'record')} fail at least one check"
        detail += f"; {errored:,} could not be audited." if errored else "."
        return Verdict("fail", "Action needed: findings to fix.", detail)
    if errored:
        return Verdict("error", "Incomplete: some records could not be audited.",
                       f"{errored:,} of {_plural(total, 'record')} could not be audited; the others pass.")
    return Verdict("pass", f"All {_plural(total, 'record')} pass every check.")


@dataclass
class ReportView:
    run: RunResult
    by_status: dict[str, int]
    by_env: dict[str, dict[str, int]]
    checks_by_status: dict[str, int]
    top_rules: list[tuple[str, str, int]]
    matrix: list[MatrixRow]
    records: list[RecordView]
    changes: Changes | None
    mode_text: str

    @property
    def verdict(self) -> Verdict:
        return verdict(self.run)

    @property
    def checks_total(self) -> int:
        return sum(self.checks_by_status.values())

    @property
    def tenants(self) -> int:
        return len(self.matrix)

    @property
    def attention_rows(self) -> list[MatrixRow]:
        return [row for row in self.matrix if not row.clean]

    @property
    def clean_rows(self) -> list[MatrixRow]:
        return [row for row in self.matrix if row.clean]

    @property
    def clean_records(self) -> int:
        return len(self.run.records) - len(self.records)


def build_view(run: RunResult, previous: RunResult | None = None) -> ReportView:
    """The report's content, in the order it is shown."""
    by_env: dict[str, dict[str, int]] = {}
    envs = list(ENVIRONMENTS) + sorted({r.environment for r in run.records} - set(ENVIRONMENTS))
    for env in envs:
        counts = Counter(r.status.value for r in run.records if r.environment == env)
        by_env[env] = {s: counts.get(s, 0) for s in STATUSES}
    checks = Counter(c.status.value for r in run.records for c in r.checks)
    return ReportView(
        run=run,
        by_status={s: sum(1 for r in run.records if r.status.value == s) for s in STATUSES},
        by_env=by_env,
        checks_by_status={s.value: checks.get(s.value, 0) for s in CheckStatus},
        top_rules=top_failing_rules(run),
        matrix=matrix(run),
        records=[record_view(r) for r in worst_first(run.records) if has_findings(r)],
        changes=compare(previous, run) if previous is not None else None,
        mode_text=MODES.get(run.mode, run.mode),
    )


def has_findings(record: RecordResult) -> bool:
    return record.status is not RecordStatus.PASS or any(c.status in _SHOWN for c in record.checks)


def top_failing_rules(run: RunResult, limit: int = 8) -> list[tuple[str, str, int]]:
    """(rule, slug, records failing it), most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    for record in run.records:
        for check in record.checks:
            if check.status is CheckStatus.FAIL:
                counts[(check.rule, check.slug)] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))[:limit]
    return [(rule, slug, n) for (rule, slug), n in ranked]


def _record_rank(record: RecordResult) -> tuple:
    """Smaller is worse: status, then the most severe failure, then how many, then info and waived findings."""
    worst = max((c.severity.rank for c in record.checks if c.counts_as_failure), default=-1)
    shown = sum(1 for c in record.checks if c.status in _SHOWN)
    return (_STATUS_RANK[record.status], -worst, -len(record.failing()), -shown)


def worst_first(records: list[RecordResult]) -> list[RecordResult]:
    """Errors first (could not be audited), then failures by their worst severity and count."""
    return sorted(records, key=lambda r: (*_record_rank(r), r.tenant.casefold(), r.company_id, r.environment))


def _cell(record: RecordResult) -> Cell:
    fails = [c for c in record.checks if c.status is CheckStatus.FAIL]
    return Cell(
        status=record.status.value,
        failing=[c.rule for c in fails if c.counts_as_failure],
        info=[c.rule for c in fails if not c.counts_as_failure],
        errors=[c.rule for c in record.checks if c.status is CheckStatus.ERROR],
        waived=[c.rule for c in record.checks if c.status is CheckStatus.WAIVED],
    )


def matrix(run: RunResult) -> list[MatrixRow]:
    """One row per tenant, one cell per environment; worst first."""
    rows: dict[str, MatrixRow] = {}
    ranks: dict[str, list[tuple]] = {}
    for record in run.records:
        row = rows.setdefault(record.company_id, MatrixRow(record.company_id, record.tenant,
                                                           {e: None for e in ENVIRONMENTS}, ()))
        row.cells[record.environment] = _cell(record)
        ranks.setdefault(record.company_id, []).append(_record_rank(record))
    for company_id, row in rows.items():
        row.rank = min(ranks[company_id])
    return sorted(rows.values(), key=lambda r: (r.rank, r.tenant.casefold(), r.company_id))


def record_view(record: RecordResult) -> RecordView:
    ordered = sorted(record.checks, key=lambda c: (-c.severity.rank, c.rule))
    groups: dict[str, list[CheckResult]] = {}
    for check in ordered:
        if check.status is CheckStatus.ERROR:
            groups.setdefault(check.message, []).append(check)
    shown = (CheckStatus.FAIL, CheckStatus.WAIVED)
    return RecordView(
        record=record,
        errors=[ErrorGroup(message, sorted(checks, key=_rule_key)) for message, checks in groups.items()],
        findings=[finding(c) for c in ordered if c.status in shown],
        passing=[c for c in record.checks if c.status is CheckStatus.PASS],
        skipped=[c for c in record.checks if c.status is CheckStatus.SKIPPED],
    )


def _rule_key(check: CheckResult) -> tuple:
    return _split_rule(check.rule)


_GROUP_ORDER = {"ACC": 0, "KEY": 1, "WH": 2, "TEN": 3}


def _split_rule(rule: str) -> tuple[int, str, int]:
    prefix = rule.rstrip("0123456789")
    digits = rule[len(prefix):]
    return (_GROUP_ORDER.get(prefix, 9), prefix, int(digits) if digits else -1)


def rule_ranges(rules: list[str]) -> str:
    """``ACC001 ACC002 ACC003 KEY001`` → ``ACC001–003, KEY001``: compact, in catalogue order."""
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 3:
            first, last = run[0], run[-1]
            parts.append(f"{first}–{last[len(last.rstrip('0123456789')):]}")
        else:
            parts.extend(run)
        run.clear()

    for rule in sorted(set(rules), key=_split_rule):
        if run:
            _, prefix, number = _split_rule(rule)
            _, last_prefix, last_number = _split_rule(run[-1])
            if prefix != last_prefix or number != last_number + 1 or number < 0:
                flush()
        run.append(rule)
    flush()
    return ", ".join(parts)


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


NEAR_MISS = 0.6  # similarity ratio from which a differing URL part is a near miss, marked letter by letter
_URL_PART = re.compile(r"[^/?#&]+|[/?#&]")


def url_diff(found: str, expected: str) -> tuple[list[Segment], list[Segment]]:
    """What to delete from ``found`` and insert for ``expected``, part by part (between slashes).

    A near miss (``v1`` for ``v1.0``, ``http:`` for ``https:``) is marked letter by letter; a part that is
    altogether different (another tenant's companyID) is shown whole, wrong beside right: a letter-by-letter
    diff of two unrelated IDs is unreadable.
    """
    a, b = _URL_PART.findall(found), _URL_PART.findall(expected)
    left: list[Segment] = []
    right: list[Segment] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(Segment("same", "".join(a[a1:a2])))
            right.append(Segment("same", "".join(b[b1:b2])))
        elif op == "replace" and a2 - a1 == b2 - b1:
            for x, y in zip(a[a1:a2], b[b1:b2]):
                _part_diff(x, y, left, right)
        else:
            if a2 > a1:
                left.append(Segment("del", "".join(a[a1:a2])))
            if b2 > b1:
                right.append(Segment("ins", "".join(b[b1:b2])))
    return _merged(left), _merged(right)


def _part_diff(found: str, expected: str, left: list[Segment], right: list[Segment]) -> None:
    matcher = difflib.SequenceMatcher(a=found, b=expected, autojunk=False)
    if matcher.ratio() < NEAR_MISS:
        left.append(Segment("del", found))
        right.append(Segment("ins", expected))
        return
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            left.append(Segment("same", found[a1:a2]))
            right.append(Segment("same", expected[b1:b2]))
            continue
        if a2 > a1:
            left.append(Segment("del", found[a1:a2]))
        if b2 > b1:
            right.append(Segment("ins", expected[b1:b2]))


def _merged(segments: list[Segment]) -> list[Segment]:
    """Neighbouring segments of one kind as one."""
    out: list[Segment] = []
    for s in segments:
        if out and out[-1].op == s.op:
            out[-1] = Segment(s.op, out[-1].text + s.text)
        elif s.text:
            out.append(s)
    return out


def _error_text(part: str, error: FetchError) -> str:
    status = f" HTTP {error.http_status}" if error.http_status else ""
    return f"{error.path or part}: {error.kind.value}{status} ({error.message})"


def evidence_row(record: RecordResult) -> EvidenceRow:
    """What Stripe answered for ``record`` (the evidence holds no secret; outputs are scrubbed anyway)."""
    e = record.evidence
    row = EvidenceRow(record.company_id, record.tenant, record.environment, present=e is not None)
    if e is None:
        return row
    row.not_asked, row.key_hint = e.not_asked, e.key_hint
    if e.account is not None:
        a = e.account
        row.account_id = a.id
        row.flags = (a.charges_enabled, a.payouts_enabled, a.details_submitted)
    if e.webhook_endpoints is not None:
        ours = sorted(e.webhook_endpoints, key=lambda w: not points_at_plenigo(w))
        row.endpoints = [EndpointRow(w.id, w.url, w.status, len(w.enabled_events), "*" in w.enabled_events,
                                     w.livemode, w.description) for w in ours]
    if e.failed_events is not None:
        row.failed_events, row.failed_truncated = len(e.failed_events), e.failed_events_truncated
    for part in ("account", "webhook_endpoints", "failed_events"):
        error = e.error_for(part)
        if error is not None:
            row.errors.append(_error_text(part, error))
    return row


def _yn(value: bool | None) -> str:
    return "?" if value is None else ("y" if value else "n")


def _mode(livemode: bool | None) -> str:
    return "?" if livemode is None else ("live" if livemode else "test")


# fixed-width columns of the PDF's evidence listing: (heading, width)
EVIDENCE_COLUMNS = (("companyID", 20), ("env", 5), ("key", 15), ("account", 22), ("c p d", 5),
                    ("undeliv.", 8), ("endpoint", 8), ("events", 6), ("mode", 4), ("URL", 0))


def _columns(values: list[str]) -> str:
    out = []
    for (_, width), value in zip(EVIDENCE_COLUMNS, values):
        out.append(value.ljust(width) if width else value)
    return " ".join(out).rstrip()


def evidence_header() -> str:
    return _columns([h for h, _ in EVIDENCE_COLUMNS])


def evidence_lines(row: EvidenceRow) -> list[str]:
    """The record's evidence as fixed-width lines (the PDF's compact appendix)."""
    head = [row.company_id, row.environment]
    if not row.present:
        return [_columns(head + ["-", "no evidence recorded"])]
    if row.not_asked:
        return [_columns(head + [row.key_hint or "-", f"not asked: {row.not_asked}"])]
    flags = " ".join(_yn(v) for v in row.flags) if row.flags else "-"
    undelivered = "-" if row.failed_events is None else f"{row.failed_events}{'+' if row.failed_truncated else ''}"
    first = head + [row.key_hint or "-", row.account_id or "-", flags, undelivered]
    blank = [""] * len(first)
    lines: list[str] = []
    endpoints = row.endpoints or []
    for i, w in enumerate(endpoints):
        events = "*" if w.wildcard else str(w.events)
        lines.append(_columns((first if i == 0 else blank) + [w.status, events, _mode(w.livemode), w.url]))
    if not endpoints:
        lines.append(_columns(first + ["-" if row.endpoints is None else "none"]))
    lines.extend(_columns(blank[:2] + [f"error {text}"]) for text in row.errors)
    return lines
