"""Per-tenant compliance emails at fleet scale: each contact's own PDF, sent through a real SMTP server.

Builds a synthetic run of N tenants (tests/render/synthetic.py: about 70% of
records pass, the rest fail in the usual ways), gives every tenant a contact,
and does what `audit run --email-tenant-contacts` does after the audit: cut the
run per tenant (``auditor.mail.tenant_run``), lay out each tenant's PDF
(``auditor.render.pdf.pdfs_isolated`` with the tenant sheet, ``tenant_pdf_html``, as
the product does; ``--sheet report`` lays out the fleet report's layout for one
tenant instead, as before), compose each message and send them all
to an aiosmtpd sink on loopback (a real SMTP conversation; the sink only
counts what it receives). Prints the seconds of the PDF making and of the whole,
for each number of layout processes asked for (the first is the default: one
per core).

    .venv/bin/python benchmarks/email_bench.py --tenants 1000 --processes 0 1
    .venv/bin/python benchmarks/email_bench.py --tenants 200 --sheet tenant report
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller

from auditor.mail import SmtpSettings, compose, send, tenant_run
from auditor.render import RenderOptions
from auditor.render.pdf import layout_processes, pdfs_isolated, report_pdf_html, tenant_pdf_html
from auditor.results import RunResult
from tests.render.synthetic import fleet


class Sink:
    """Counts the messages and bytes an SMTP server received."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SHEETS = {"tenant": tenant_pdf_html, "report": report_pdf_html}


def timed_pdfs(runs: list[RunResult], processes: int, sheet: str) -> Iterator[bytes]:
    with closing(pdfs_isolated(runs, RenderOptions(), processes=processes, html_of=SHEETS[sheet])) as pdfs:
        yield from pdfs


def one_round(run: RunResult, processes: int, sheet: str, port: int, sink: Sink) -> tuple[float, float, float, int]:
    """Seconds to make the PDFs and messages, seconds for the whole (cut, PDFs, compose, send), PDF MB, sent."""
    start = time.perf_counter()
    companies = list(dict.fromkeys(r.company_id for r in run.records))
    owns = [tenant_run(run, cid) for cid in companies]
    sizes: list[int] = []
    # as auditor.app.delivery._tenant_messages does: each message composed as its PDF arrives, while the
    # layout children go on with the next ones
    messages = [compose(own, None, "audit@plenigo.test", [f"pay@{cid.lower()}.test"], pdf,
                        heading=f"Stripe setup check for {own.records[0].tenant}")
                for cid, own, pdf in zip(companies, owns, _counted(timed_pdfs(owns, processes, sheet), sizes),
                                         strict=True)]
    pdf_seconds = time.perf_counter() - start  # the tenants' cut, their PDFs and messages
    before = sink.messages
    report = send(messages, SmtpSettings(host="127.0.0.1", port=port, tls="none"))
    assert report.sent == len(messages) and not report.failures, report.failures
    while sink.messages - before < len(messages):  # the sink counts after its reply; let it catch up
        time.sleep(0.01)
    return pdf_seconds, time.perf_counter() - start, sum(sizes) / 2**20, report.sent


def _counted(pdfs: Iterator[bytes], sizes: list[int]) -> Iterator[bytes]:
    for pdf in pdfs:
        sizes.append(len(pdf))
        yield pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--processes", type=int, nargs="+", default=[0],
                        help="layout processes for each round (0: the default, one per core)")
    parser.add_argument("--sheet", choices=sorted(SHEETS), nargs="+", default=["tenant"],
                        help="what each tenant's PDF is: its own sheet (the product), or the report's layout")
    args = parser.parse_args()
    run = fleet(args.tenants)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        print(f"{args.tenants} tenants, {len(run.records)} records, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}")
        for sheet, processes in [(sheet, p) for p in args.processes for sheet in args.sheet]:
            count = processes or layout_processes()
            cpu = children_cpu()
            pdf_s, whole_s, size, sent = one_round(run, count, sheet, controller.port, sink)
            print(f"{sheet} sheet, layout processes {count}: "
                  f"PDFs and messages {pdf_s:.1f} s ({pdf_s / args.tenants:.3f} s a tenant), "
                  f"whole mailing {whole_s:.1f} s, {sent} messages sent, PDFs {size:.1f} MB, "
                  f"layout CPU {children_cpu() - cpu:.1f} s", flush=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
