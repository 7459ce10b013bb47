"""``results.csv``: one row per check, the columns a spreadsheet user filters on.

Cells are made safe for spreadsheets: a cell that starts with ``=``, ``+``,
``-``, ``@`` (or a tab/carriage return) would be read as a formula, so it gets
a leading apostrophe (OWASP's advice); tenant names and Stripe's messages are
untrusted text.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from auditor.redact import scrub
from auditor.render.interface import RenderOptions
from auditor.results import RunResult

COLUMNS = ["company_id", "tenant", "environment", "record_status", "rule", "slug", "severity", "status", "message",
           "remediation", "waived_until", "waived_by", "waiver_reason"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text, with a leading apostrophe when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvRenderer:
    name = "csv"
    filename = "results.csv"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        return b"".join(self.chunks(run, options))

    def chunks(self, run: RunResult, options: RenderOptions) -> Iterator[bytes]:
        """The header, then each record's rows, each scrubbed and encoded alone, to be written as it is made.

        A fleet's file runs to tens of MB: built, scrubbed and encoded whole, it was
        held several times over. A secret-shaped string cannot span the line end
        between two records' rows, so scrubbing each alone masks what scrubbing the
        whole did (short of a registered secret that itself holds that line end).
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")

        def taken() -> bytes:
            text = out.getvalue()
            out.seek(0)
            out.truncate()
            return scrub(text).encode("utf-8")

        writer.writerow(COLUMNS)
        yield codecs.BOM_UTF8 + taken()  # the BOM makes Excel read UTF-8 (umlauts in names)
        for record in run.records:
            for check in record.checks:
                w = check.waiver
                writer.writerow([safe_cell(v) for v in (
                    record.company_id, record.tenant, record.environment, record.status.value, check.rule, check.slug,
                    check.severity.value, check.status.value, check.message, check.remediation or "",
                    w.expires if w else "", w.approved_by if w else "", w.reason if w else "")])
            if record.checks:
                yield taken()
