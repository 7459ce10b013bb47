"""The scheduled run's delivery: store the run in the history, then mail the compliance email.

A mail problem never hides the reports (they are already written) nor the
audit's own verdict: :func:`deliver` says whether some mail failed and the
caller turns the exit code into 4 or 5.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from auditor.app.output import Output
from auditor.redact import scrub

if TYPE_CHECKING:
    from email.message import EmailMessage

    from auditor.changes import Changes
    from auditor.config import Tenant
    from auditor.results import RunResult

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

When = Literal["always", "failures", "changes"]
Tls = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True)
class DeliveryOptions:
    """--history, --keep and the --email-*/--smtp-* options (SMTP user and password come from the environment)."""

    history: Path | None = None
    keep: int | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = "plenigo-stripe-audit@localhost"
    email_when: When = "always"
    report_url: str | None = None
    email_tenant_contacts: bool = False
    smtp_host: str = "localhost"
    smtp_port: int | None = None
    smtp_tls: Tls = "starttls"

    @property
    def mails(self) -> bool:
        return bool(self.email_to) or self.email_tenant_contacts


def previous_run(options: DeliveryOptions) -> RunResult | None:
    """The last stored run (read before this run is stored)."""
    if options.history is None:
        return None
    from auditor.history import previous_run as last_stored

    return last_stored(options.history)


def deliver(options: DeliveryOptions, run: RunResult, previous: RunResult | None, tenants: list[Tenant],
            written: list[Path], out: Output) -> bool:
    """Store the run, then mail it; True when some mail was not delivered (exit code 4 or 5).

    Every failure is reported on its own line: the reports are already written,
    so a mail problem never hides them.
    """
    if options.history:
        from auditor.history import store_run

        path = store_run(options.history, run, options.keep, written=_this_runs(written, "results.json"))
        out.note(f"stored {path}")
    if not options.mails:
        return False
    from auditor.changes import compare

    changes = compare(previous, run) if previous is not None else None
    try:
        failures = _mail(options, run, previous, changes, tenants, written, out)
    except Exception as exc:  # a PDF that could not be made: the reports are already written
        failures = [f"the compliance email was not sent: {exc}"]
    for failure in failures:
        out.note(scrub(f"error: email: {failure}"))
    return bool(failures)


def _mail(options: DeliveryOptions, run: RunResult, previous: RunResult | None, changes: Changes | None,
          tenants: list[Tenant], written: list[Path], out: Output) -> list[str]:
    from auditor.mail import SmtpSettings, compose, send, should_send
    from auditor.results import facts_of

    if not should_send(options.email_when, run, changes):
        out.note(f"no email: nothing to report for --email-when {options.email_when}")
        return []
    pdf = operations_pdf(run, previous, written) if options.email_to else None
    messages = [compose(run, changes, options.email_from, list(options.email_to), pdf,
                        report_url=options.report_url)] if options.email_to else []
    failures: list[str] = []
    if options.email_tenant_contacts:
        audited = {f.company_id for f in facts_of(run.records)}  # a spooled fleet is not decoded for it
        sendable, failures = _valid_contacts([t for t in tenants if t.company_id in audited])
        messages += _tenant_messages(run, sendable, options.email_from)
    smtp = SmtpSettings(host=options.smtp_host, port=options.smtp_port or DEFAULT_PORTS[options.smtp_tls],
                        tls=options.smtp_tls, user=os.environ.get("AUDIT_SMTP_USER"),
                        password=os.environ.get("AUDIT_SMTP_PASSWORD"))
    report = send(messages, smtp)
    out.note(f"sent {report.sent} of {len(messages)} email(s) through {smtp.host}:{smtp.port}")
    return failures + report.failures


def _valid_contacts(tenants: list[Tenant]) -> tuple[list[Tenant], list[str]]:
    """The tenants whose contact is one plain address, and a failure naming each other one.

    A malformed contact costs only that tenant's own message: it is never put in
    a header (a line break there could add recipients), and the rest is sent.
    """
    from auditor.mail import address_problem

    good: list[Tenant] = []
    failures: list[str] = []
    for tenant in tenants:
        problem = address_problem(tenant.contact) if tenant.contact else None
        if problem is None:
            good.append(tenant)
        else:
            failures.append(f"tenant {tenant.name!r} ({tenant.company_id}, {tenant.source_file}): contact "
                            f"{tenant.contact!r} {problem}; its findings were not mailed")
    return good, failures


def _tenant_messages(run: RunResult, tenants: list[Tenant], sender: str) -> list[EmailMessage]:
    """One message per tenant with a contact: only its own records, its own sheet as PDF (a child per core)."""
    from auditor.mail import compose, tenant_run
    from auditor.render import RenderOptions
    from auditor.render.pdf import pdfs_isolated, tenant_pdf_html

    mine = [(tenant, contact, tenant_run(run, tenant.company_id)) for tenant in tenants
            if (contact := tenant.contact)]
    mine = [(tenant, contact, own) for tenant, contact, own in mine if own.records]
    pdfs = pdfs_isolated((own for _, _, own in mine), RenderOptions(), html_of=tenant_pdf_html)
    try:
        return [compose(own, None, sender, [contact], pdf, heading=f"Stripe setup check for {tenant.name}")
                for (tenant, contact, own), pdf in zip(mine, pdfs, strict=False)]
    finally:
        close = getattr(pdfs, "close", None)  # a generator: its layout child stops now, not when collected
        if close is not None:
            close()


def _this_runs(written: list[Path], name: str) -> Path | None:
    """The output file ``name`` if this run wrote it (an older file of that name is never taken)."""
    return next((path for path in written if path.name == name), None)


def operations_pdf(run: RunResult, previous: RunResult | None, written: list[Path]) -> bytes:
    """The PDF report the operations email carries, with the changes since ``previous`` when there is one.

    The one this run just wrote is taken if it wrote one (it was rendered with
    the same ``previous``), else it is rendered now: the mailed PDF is the same
    whatever ``--format`` chose.
    """
    pdf = _this_runs(written, "report.pdf")
    if pdf is not None:
        return pdf.read_bytes()
    from auditor.render import RenderOptions, get_renderer

    return get_renderer("pdf").render(run, RenderOptions(previous=previous))
