"""The terminal view, made for fleets: worst records first, passes folded into one line, 80 columns.

Like ruff's and pytest's output, it shows what needs doing and counts the rest:
errors first, then failures by their worst severity; a severity is a colour
*and* a word, so it survives ``NO_COLOR`` and a black-and-white printout;
``info`` findings say that they do not fail anything. Long text wraps at words
and fix text stays indented under its finding.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TextIO

import click

from auditor.changes import compare
from auditor.redact import scrub
from auditor.render.interface import RenderOptions
from auditor.results import CheckResult, CheckStatus, RecordResult, RecordStatus, RunResult, Severity, facts_of
from auditor.terminal import visible

DEFAULT_WIDTH = 80
_SEVERITY_COLOR = {"critical": "red", "high": "red", "medium": "yellow", "low": "yellow", "info": "blue"}
_STATUS_COLOR = {"pass": "green", "fail": "red", "error": "magenta", "skipped": "yellow", "waived": "cyan"}
_LABEL = 9  # "CRITICAL " and friends: the finding's text starts in one column


def terminal_width(stream: TextIO | None = None) -> int:
    """The terminal's width on a terminal (at least 60), else 80: files and pipes get a stable layout."""
    stream = stream or sys.stdout
    if not stream.isatty():
        return DEFAULT_WIDTH
    return max(60, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def summary_line(run: RunResult) -> str:
    """``4 records: 2 pass, 1 fail, 1 error`` — the last line of every run."""
    s = run.summary
    return f"{s.get('records', 0)} records: {s.get('pass', 0)} pass, {s.get('fail', 0)} fail, {s.get('error', 0)} error"


def record_order(record: RecordResult) -> tuple[int, int, int, str, str]:
    """Worst first: errored records, then failed ones by their worst failed severity and number of failures."""
    status_rank = {RecordStatus.ERROR: 0, RecordStatus.FAIL: 1, RecordStatus.PASS: 2}[record.status]
    failing = [c for c in record.checks if c.counts_as_failure]
    worst = max((c.severity.rank for c in failing), default=-1)
    return status_rank, -worst, -len(failing), record.company_id, record.environment


def check_order(check: CheckResult) -> tuple[int, int, str]:
    """Within a record: errors, failures by severity, waived, then ``info`` findings, then the rest."""
    if check.status is CheckStatus.ERROR:
        group = 0
    elif check.counts_as_failure:
        group = 1
    elif check.status is CheckStatus.WAIVED:
        group = 2
    elif check.status is CheckStatus.FAIL:
        group = 3
    else:
        group = 4
    return group, -check.severity.rank, check.rule


class TableRenderer:
    name = "table"
    filename = None

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        view = _View(color=options.color, width=int(options.extra.get("width", DEFAULT_WIDTH)),
                     show_pass=bool(options.extra.get("show_pass", False)))
        return (scrub(view.render(run)) + "\n").encode("utf-8")


class _View:
    def __init__(self, color: bool, width: int, show_pass: bool):
        self.color, self.width, self.show_pass = color, width, show_pass

    def render(self, run: RunResult) -> str:
        # a spooled run decodes one record at a time: only the listed ones are kept, the folded ones counted
        # (sorting only the listed ones keeps their order: the sort is stable)
        shown: list[RecordResult] = []
        folded = info_only = 0
        for index, facts in enumerate(facts_of(run.records)):  # a waiver is always shown
            if self.show_pass or facts.status is not RecordStatus.PASS or facts.waived:
                shown.append(run.records[index])
            else:
                folded += 1
                info_only += facts.worst_failure is not None  # only info can fail in a passing record
        shown.sort(key=record_order)
        parts = [self._record(r) for r in shown]
        parts.append(self._folded(folded, info_only))
        parts.extend(self._wrap(_cell(n), "", "") for n in run.notices)
        parts.append(summary_line(run) + (" (offline: Stripe not asked)" if run.mode == "offline" else ""))
        return "\n\n".join(p for p in parts if p)

    def _record(self, record: RecordResult) -> str:
        head = f"{record.status.value.upper():<5} {record.company_id} {record.environment:<5} {_cell(record.tenant)}"
        if len(head) > self.width:
            head = head[: self.width - 1] + "…"
        lines = [self._paint(head[:5], _STATUS_COLOR[record.status.value]) + head[5:]]
        checks = sorted(record.checks, key=check_order)
        for check in checks:
            if check.status in (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED) or self.show_pass:
                lines.extend(self._finding(check))
        if record.error and not any(c.status is CheckStatus.ERROR for c in record.checks):
            lines.append(self._wrap(_cell(record.error), "  ", "  "))
        return "\n".join(lines)

    def _finding(self, check: CheckResult) -> list[str]:
        word, colour = _label(check)
        pad = " " * (2 + _LABEL)
        label = "  " + self._paint(f"{word:<{_LABEL - 1}}", colour) + " "
        suffix = " (info: does not fail the record)" if _is_info_finding(check) else ""
        text = f"{check.rule} {check.slug}{suffix}: {_cell(check.message)}"
        lines = [label + self._wrap(text, "", pad)]
        if check.waiver:
            w = check.waiver
            lines.append(self._wrap(f"waived until {w.expires} by {_cell(w.approved_by)}: {_cell(w.reason)}", pad, pad))
        if check.remediation and check.status in (CheckStatus.FAIL, CheckStatus.ERROR):
            lines.append(self._paragraphs("fix: ", _cell(check.remediation, lines=True), pad))
        return lines

    def _folded(self, records: int, info: int) -> str:
        if not records:
            return ""
        text = f"{records} record{'s' if records != 1 else ''} passed"
        if info:
            text += f" ({info} with info findings only)"
        return self._paint("PASS ", "green") + " " + text + "; --show-pass lists them"

    def _wrap(self, text: str, first: str, rest: str) -> str:
        """Wrap at words to the width; the first line's prefix may already be printed (``first`` = "").

        A word longer than a line (a URL) is never cut, so it can be copied: it
        gets a line of its own, indented less if that is what it takes to fit.
        """
        first_width = self.width - (len(first) if first else len(rest))
        text = _OPENING_LONG_WORD.sub(lambda m: m.group(1) + " " + m.group(2) if len(m.group(0)) > self.width
                                      else m.group(0), text)
        wrapped = textwrap.wrap(text, width=max(20, first_width), break_long_words=False,
                                break_on_hyphens=False) or [""]
        lines = [first + wrapped[0] if first else wrapped[0]]
        lines[0] = _fit(lines[0], self.width) if first else lines[0]
        tail = " ".join(wrapped[1:])
        if tail:
            for line in textwrap.wrap(tail, width=max(20, self.width - len(rest)), break_long_words=False,
                                      break_on_hyphens=False):
                lines.append(_fit(rest + line, self.width))
        return "\n".join(lines)

    def _paragraphs(self, lead: str, text: str, indent: str) -> str:
        """Fix text keeps its own line breaks (numbered steps); each line wraps under the ``fix:`` column."""
        out: list[str] = []
        first = True
        for line in text.strip().splitlines() or [""]:
            stripped = line.strip()
            body_indent = indent + " " * len(lead) + " " * (len(line) - len(line.lstrip()))
            prefix = indent + lead if first else body_indent
            out.append(self._wrap(stripped, prefix, body_indent) if stripped else "")
            first = False
        return "\n".join(out)

    def _paint(self, text: str, colour: str) -> str:
        return click.style(text, fg=colour, bold=True) if self.color else text


# "(https://…)," : an opening bracket may stay at the end of a line so that the URL itself fits on the next
_OPENING_LONG_WORD = re.compile(r"(?<!\S)([(\[\"'«])(\S+)")


def _fit(line: str, width: int) -> str:
    """An over-long line that is one word (a URL) loses indentation until it fits; it is never cut."""
    word = line.lstrip(" ")
    if len(line) <= width or " " in word:
        return line
    return " " * max(0, width - len(word)) + word


def _label(check: CheckResult) -> tuple[str, str]:
    """The word and colour in front of a finding: ERROR, the severity of a failure, waived, info, pass."""
    if check.status is CheckStatus.ERROR:
        return "ERROR", "magenta"
    if _is_info_finding(check):
        return "info", "blue"
    if check.status is CheckStatus.FAIL:
        return check.severity.value.upper(), _SEVERITY_COLOR[check.severity.value]
    return check.status.value, _STATUS_COLOR[check.status.value]


def _is_info_finding(check: CheckResult) -> bool:
    return check.status is CheckStatus.FAIL and check.severity is Severity.INFO


def _cell(text: str | None, lines: bool = False) -> str:
    """The one place untrusted text (tenant names, Stripe's words) enters the terminal view: shown, never
    interpreted (escape sequences, bidi overrides made visible); a line break only where ``lines`` allows."""
    return "" if text is None else visible(str(text), lines=lines)


def run_summary(run: RunResult, previous: RunResult | None, written: list[Path], history: bool = False) -> str:
    """The one line on standard error that ends every run, whatever the formats: how it went, where it went.

    Scheduled runs write only files; this line is what their logs keep.
    """
    s = run.summary
    tenants = run.tenant_count()
    text = (f"audit: {tenants} tenant{'s' if tenants != 1 else ''}, {s.get('records', 0)} records: "
            f"{s.get('pass', 0)} pass, {s.get('fail', 0)} fail, {s.get('error', 0)} error")
    if history:
        if previous is None:
            text += "; first run in the history"
        else:
            changes = compare(previous, run)
            text += f"; {len(changes.new_failures)} new, {len(changes.resolved)} resolved since the last run"
    folders = sorted({str(p.parent) for p in written})
    if written:
        text += f"; reports in {', '.join(folders)} ({', '.join(p.name for p in written)})"
    return scrub(text)
