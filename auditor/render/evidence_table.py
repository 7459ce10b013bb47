"""What Stripe answered for each record, flattened into table rows (HTML) and fixed-width lines (PDF)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.evidence import FetchError
from auditor.results import RecordResult


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
        ours = sorted(e.webhook_endpoints, key=lambda w: not record.points_at_plenigo(w.id))  # as the engine judged
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
    for (_, width), value in zip(EVIDENCE_COLUMNS, values, strict=False):
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
