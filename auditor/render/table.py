"""The terminal view: one row per record, then the findings with their fixes, then a summary line."""

from __future__ import annotations

import textwrap

import click
from tabulate import tabulate

from auditor.redact import scrub
from auditor.render import RenderOptions
from auditor.results import CheckResult, CheckStatus, RecordResult, RecordStatus, RunResult
from auditor.terminal import visible

_STATUS_COLOR = {"pass": "green", "fail": "red", "error": "magenta", "skipped": "yellow", "waived": "cyan"}


def _paint(text: str, status: str, color: bool) -> str:
    return click.style(text, fg=_STATUS_COLOR.get(status), bold=status != "pass") if color else text


def summary_line(run: RunResult) -> str:
    """``4 records: 2 pass, 1 fail, 1 error`` — the last line of every run."""
    s = run.summary
    return f"{s.get('records', 0)} records: {s.get('pass', 0)} pass, {s.get('fail', 0)} fail, {s.get('error', 0)} error"


class TableRenderer:
    name = "table"
    filename = None

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        parts = [self._overview(run, options.color)]
        findings = [self._record_findings(r, options.color) for r in run.records]
        findings = [f for f in findings if f]
        if findings:
            parts.append("Findings\n========\n\n" + "\n\n".join(findings))
        parts.extend(visible(n, lines=True) for n in run.notices)
        parts.append(summary_line(run) + (" (offline: Stripe not asked)" if run.mode == "offline" else ""))
        return (scrub("\n\n".join(parts)) + "\n").encode("utf-8")

    def _overview(self, run: RunResult, color: bool) -> str:
        rows = []
        for r in run.records:
            failing = [c.rule for c in r.checks if c.status is CheckStatus.FAIL]
            errors = [c.rule for c in r.checks if c.status is CheckStatus.ERROR]
            rows.append([
                visible(r.company_id), _shorten(visible(r.tenant), 28), r.environment,
                _paint(r.status.value.upper(), r.status.value, color),
                " ".join(failing) or "-", " ".join(errors) or "-",
            ])
        headers = ["company ID", "tenant", "env", "status", "failing rules", "errors"]
        return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)

    def _record_findings(self, record: RecordResult, color: bool) -> str:
        shown = [c for c in record.checks if c.status in (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED)]
        if not shown and record.status is RecordStatus.PASS:
            return ""
        head = f"{visible(record.company_id)} · {visible(record.tenant)} · {record.environment} · " + _paint(
            record.status.value.upper(), record.status.value, color)
        lines = [head]
        for check in sorted(shown, key=lambda c: (-c.severity.rank, c.rule)):
            lines.extend(_finding_lines(check, color))
        return "\n".join(lines)


def _finding_lines(check: CheckResult, color: bool) -> list[str]:
    label = _paint(check.status.value.upper(), check.status.value, color)
    lines = [f"  {check.rule} {check.slug} [{check.severity.value}] {label}: {visible(check.message, lines=True)}"]
    if check.waiver:
        lines.append(visible(f"      waived until {check.waiver.expires} by {check.waiver.approved_by}: "
                             f"{check.waiver.reason}", lines=True))
    if check.remediation and check.status is CheckStatus.FAIL:
        lines.append("      fix: " + _indent(visible(check.remediation, lines=True), 11).lstrip())
    return lines


def _indent(text: str, width: int) -> str:
    return textwrap.indent(text.strip(), " " * width)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
