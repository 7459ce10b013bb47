"""``report.pdf``: the report laid out by WeasyPrint with print CSS (A4, running header, page X of Y).

Built for fleets: a thousand tenants must lay out in seconds, so the PDF's
template (``report_pdf.html.j2``) uses few, plain boxes, and beyond
:data:`FULL_FIXES_UP_TO` records with findings the steps to fix are printed
once per rule while every finding keeps its own values. The layout runs in a
child process (``python -m auditor.render.pdf_child``): WeasyPrint's memory
goes back to the system when it ends, instead of staying with the auditor,
which may go on to send email.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from auditor.redact import scrub
from auditor.render.evidence_table import evidence_header, evidence_lines, evidence_row
from auditor.render.html import common_context
from auditor.render.interface import RenderOptions
from auditor.render.json import JsonRenderer
from auditor.render.pdf_child import FAILED, read_frame, write_frame
from auditor.render.templating import render_template, stylesheet
from auditor.render.view import build_view
from auditor.results import CheckStatus, RunResult

FULL_FIXES_UP_TO = 40  # records with findings; above, the steps to fix are printed once per rule
FULL_MATRIX_UP_TO = 60  # clean tenants shown as matrix rows; above, they are listed compactly
MATRIX_TABLE_UP_TO = 60  # matrix rows laid out as a table; above, one line each (a table row costs 5-10 ms)
CHANGES_LIMIT = 10  # rows per kind of change, as on the HTML first screen; all are in report.html and results.json
BY_RULE_LIMIT = 30  # records named per rule in "by rule"; the matrix and the findings name every one
EVIDENCE_BLOCK = 5  # records per block of the evidence listing (a small gap between blocks guides the eye)


def report_pdf_html(run: RunResult, options: RenderOptions) -> str:
    """The HTML that WeasyPrint lays out as report.pdf (scrubbed of secrets like every output)."""
    view = build_view(run, options.previous)
    grouped = len(view.records) > FULL_FIXES_UP_TO
    per_record = [evidence_lines(evidence_row(record)) for record in run.records]
    blocks = ["\n".join(line for lines in per_record[i:i + EVIDENCE_BLOCK] for line in lines)
              for i in range(0, len(per_record), EVIDENCE_BLOCK)]
    context = common_context(view, options, "print")
    context["changes_limit"] = CHANGES_LIMIT
    return render_template(
        "report_pdf.html.j2",
        **context,
        css=stylesheet("report.css", "print.css"),
        full_matrix=len(view.clean_rows) <= FULL_MATRIX_UP_TO,
        grouped_fixes=grouped,
        by_rule_limit=BY_RULE_LIMIT,
        matrix_table_up_to=MATRIX_TABLE_UP_TO,
        evidence_header=evidence_header(),
        evidence_blocks=blocks,
    )


@dataclass(frozen=True)
class RecordVerdict:
    """One line of a tenant sheet's verdict table."""

    environment: str
    status: str
    failing: str  # the failed rules' IDs, or "" for none
    passed: int


def tenant_pdf_html(run: RunResult, options: RenderOptions) -> str:
    """The HTML of the PDF a tenant's contact receives: its records only, no fleet chapters.

    One tenant needs its verdict per environment, each finding with its steps and what Stripe
    answered; without the first screen, the by-rule chapter and the matrix it is a fraction of the
    boxes of report.pdf to lay out (per-tenant mail lays out one of these per contact).
    """
    view = build_view(run, options.previous)
    tenant = run.records[0].tenant if run.records else ""
    verdicts = [RecordVerdict(r.environment, r.status.value,
                              ", ".join(c.rule for c in r.checks if c.status is CheckStatus.FAIL),
                              sum(c.status is CheckStatus.PASS for c in r.checks)) for r in run.records]
    evidence = "\n".join(line for r in run.records for line in evidence_lines(evidence_row(r)))
    return render_template(
        "tenant_pdf.html.j2",
        **common_context(view, options, "print"),
        css=stylesheet("report.css", "print.css"),
        heading=f"Stripe setup check for {tenant}",
        verdicts=verdicts,
        evidence_header=evidence_header(),
        evidence=evidence,
    )


def results_json(run: RunResult, options: RenderOptions) -> bytes:
    """The run's results.json (scrubbed, as written by ``--format json``), to embed in the PDF."""
    return JsonRenderer().render(run, options)


class PdfError(RuntimeError):
    """The layout process failed; the message says why (scrubbed, as every output)."""


class LayoutProcess:
    """A child Python process that lays out HTML documents as PDFs (``auditor.render.pdf_child``).

    Started before the HTML is ready, so that WeasyPrint's slow import overlaps with building it;
    one child lays out many documents (per-tenant mail) with one import; its memory is returned
    to the system when it exits (peak: ``getrusage(RUSAGE_CHILDREN)``).
    """

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        # a file, not a pipe: the child's warnings can never block it (closed by close())
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen([sys.executable, "-m", "auditor.render.pdf_child"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._errors, env=env)
        self._broken = False

    def render(self, html: str, attachment: bytes | Callable[[], bytes] = b"") -> bytes:
        """The PDF of ``html``, with ``attachment`` (a results.json) embedded when given.

        A callable attachment is made only once the child has the HTML, so it is encoded while the child
        lays the document out.
        """
        self.send(html, attachment)
        return self.receive()

    def send(self, html: str, attachment: bytes | Callable[[], bytes] = b"") -> None:
        """Hand the child one document; its PDF is read with :meth:`receive` (meanwhile others can be sent)."""
        assert self._proc.stdin is not None
        try:
            write_frame(self._proc.stdin, html.encode("utf-8"))
            write_frame(self._proc.stdin, attachment() if callable(attachment) else attachment)
        except BrokenPipeError:
            self._broken = True

    def receive(self) -> bytes:
        """The PDF of the document last sent, or :class:`PdfError` saying why there is none."""
        assert self._proc.stdout is not None
        pdf = None if self._broken else read_frame(self._proc.stdout)
        if pdf is None:
            raise PdfError(scrub(f"the PDF could not be laid out: {self._why_it_ended()}"))
        if pdf.startswith(FAILED):
            raise PdfError(scrub(f"the PDF could not be laid out: {pdf[len(FAILED):].decode('utf-8', 'replace')}"))
        return pdf

    def _why_it_ended(self) -> str:
        code = self._proc.wait()
        if code < 0:
            return f"killed by signal {-code} (out of memory?)"
        self._errors.seek(0)
        lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {code}"

    def close(self) -> None:
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()  # the child ends when its input does
            self._proc.wait(timeout=5)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        self._errors.close()

    def __enter__(self) -> LayoutProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def layout_processes() -> int:
    """How many layout children per-tenant mail uses: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def pdfs_isolated(runs: Iterable[RunResult], options: RenderOptions, processes: int | None = None,
                  html_of: Callable[[RunResult, RenderOptions], str] = report_pdf_html) -> Iterator[bytes]:
    """The PDF of each run, in the order of ``runs`` (per-tenant mail: each run one tenant's records).

    ``html_of`` makes each document's HTML: the report's by default, :func:`tenant_pdf_html` for the
    sheet a tenant's contact receives.

    Laid out by one child process per core (``processes`` overrides), each a document at a time:
    a tenant's PDF is a fresh WeasyPrint document of its own records only, as with one child, and
    while the children lay out, this process builds the next documents' HTML. The children are
    started as the first documents are sent, so a mail to few tenants starts few.
    """
    count = max(1, processes or layout_processes())
    children: list[LayoutProcess] = []
    busy: deque[LayoutProcess] = deque()  # children with a document in flight, oldest first
    try:
        for run in runs:
            if len(busy) == count:
                child = busy.popleft()
                yield child.receive()
            elif len(children) < count:
                child = LayoutProcess()
                children.append(child)
            else:
                child = next(c for c in children if c not in busy)
            child.send(html_of(run, options), partial(results_json, run, options))
            busy.append(child)
        while busy:
            yield busy.popleft().receive()
    finally:
        for child in children:
            child.close()


class PdfRenderer:
    name = "pdf"
    filename = "report.pdf"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        with LayoutProcess() as child:  # it imports WeasyPrint while this process builds the HTML
            return child.render(report_pdf_html(run, options), lambda: results_json(run, options))
