"""The scheduled-run options of ``audit run``: history and compliance email."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from auditor.changes import Changes, compare
from auditor.config import Tenant
from auditor.redact import scrub
from auditor.results import RunResult

_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def delivery_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --history, --keep and the --email-*/--smtp-* options to a command."""
    options = [
        click.option("--history", type=click.Path(path_type=Path, file_okay=False),
                     help="Store each run's results here and compare with the previous run."),
        click.option("--keep", type=click.IntRange(1), default=None, help="Keep only the newest N runs in --history."),
        click.option("--email-to", multiple=True, metavar="ADDR", callback=_addresses,
                     help="Mail the summary and PDF here (repeatable)."),
        click.option("--email-from", default="plenigo-stripe-audit@localhost", show_default=True, metavar="ADDR",
                     callback=_addresses),
        click.option("--email-when", type=click.Choice(["always", "failures", "changes"]), default="always",
                     show_default=True, help="Send only when something fails, or only when something changed."),
        click.option("--report-url", callback=_report_url, metavar="URL",
                     help="Where this run's report.html is published: the email links its rows and 'and N more' there."),
        click.option("--email-tenant-contacts", is_flag=True,
                     help="Also mail each tenant's contact that tenant's own findings (and nothing else)."),
        click.option("--smtp-host", envvar="AUDIT_SMTP_HOST", default="localhost", show_default=True,
                     help="SMTP server (env AUDIT_SMTP_HOST); user and password only from AUDIT_SMTP_USER and "
                          "AUDIT_SMTP_PASSWORD."),
        click.option("--smtp-port", envvar="AUDIT_SMTP_PORT", type=int, default=None,
                     help="SMTP port (env AUDIT_SMTP_PORT; default 587, 465 for ssl, 25 for none)."),
        click.option("--smtp-tls", envvar="AUDIT_SMTP_TLS", type=click.Choice(["starttls", "ssl", "none"]),
                     default="starttls", show_default=True, help="Transport security (env AUDIT_SMTP_TLS)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _addresses(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Each address of an --email-* option is one plain address: a usage error before anything is audited."""
    from auditor.mail import address_problem

    for address in (value,) if isinstance(value, str) else value:
        problem = address_problem(address)
        if problem is not None:
            raise click.BadParameter(f"{address!r} {problem}; give one address like name@example.com")
    return value


def _report_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An http(s) URL without spaces or quotes (it is written into the email as a link)."""
    from urllib.parse import urlsplit

    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in value for c in ' "<>\\\n\t'):
        raise click.BadParameter(f"{value!r} is not an http(s) URL", ctx=ctx, param=param)
    return value


@dataclass(frozen=True)
class Delivery:
    history: Path | None
    keep: int | None
    email_to: tuple[str, ...]
    email_from: str
    email_when: str
    report_url: str | None
    email_tenant_contacts: bool
    smtp_host: str
    smtp_port: int | None
    smtp_tls: str

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> Delivery:
        """Take this object's options out of a command's keyword arguments."""
        return cls(**{name: kwargs.pop(name) for name in cls.__dataclass_fields__})

    def previous(self) -> RunResult | None:
        """The last stored run (read before this run is stored)."""
        from auditor.history import previous_run

        return previous_run(self.history) if self.history else None

    def deliver(self, run: RunResult, previous: RunResult | None, tenants: list[Tenant],
                written: list[Path]) -> bool:
        """Store the run, then mail it; True when some mail was not delivered (exit code 4 or 5).

        Every failure is reported on its own line: the reports are already written,
        so a mail problem never hides them.
        """
        if self.history:
            from auditor.history import store_run

            path = store_run(self.history, run, self.keep, written=_this_runs(written, "results.json"))
            click.echo(f"stored {path}", err=True)
        if not self.email_to and not self.email_tenant_contacts:
            return False
        changes = compare(previous, run) if previous is not None else None
        try:
            failures = self._mail(run, changes, tenants, written)
        except Exception as exc:  # a PDF that could not be made: the reports are already written
            failures = [f"the compliance email was not sent: {exc}"]
        for failure in failures:
            click.echo(scrub(f"error: email: {failure}"), err=True)
        return bool(failures)

    def _mail(self, run: RunResult, changes: Changes | None, tenants: list[Tenant],
              written: list[Path]) -> list[str]:
        from auditor.mail import SmtpSettings, compose, send, should_send

        if not should_send(self.email_when, run, changes):  # type: ignore[arg-type]
            click.echo(f"no email: nothing to report for --email-when {self.email_when}", err=True)
            return []
        messages = [compose(run, changes, self.email_from, list(self.email_to), _pdf(run, written),
                            report_url=self.report_url)] if self.email_to else []
        failures: list[str] = []
        if self.email_tenant_contacts:
            audited = {r.company_id for r in run.records}
            sendable, failures = _valid_contacts([t for t in tenants if t.company_id in audited])
            messages += _tenant_messages(run, sendable, self.email_from)
        smtp = SmtpSettings(host=self.smtp_host, port=self.smtp_port or _DEFAULT_PORTS[self.smtp_tls],
                            tls=self.smtp_tls, user=os.environ.get("AUDIT_SMTP_USER"),  # type: ignore[arg-type]
                            password=os.environ.get("AUDIT_SMTP_PASSWORD"))
        report = send(messages, smtp)
        click.echo(f"sent {report.sent} of {len(messages)} email(s) through {smtp.host}:{smtp.port}", err=True)
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


def _tenant_messages(run: RunResult, tenants: list[Tenant], sender: str) -> list:
    """One message per tenant with a contact: only its own records, its own PDF (laid out by one child)."""
    from auditor.mail import compose, tenant_run
    from auditor.render import RenderOptions
    from auditor.render.pdf import pdfs_isolated

    mine = [(tenant, tenant_run(run, tenant.company_id)) for tenant in tenants if tenant.contact]
    mine = [(tenant, own) for tenant, own in mine if own.records]
    with closing(pdfs_isolated((own for _, own in mine), RenderOptions())) as pdfs:
        return [compose(own, None, sender, [tenant.contact], pdf, heading=f"Stripe setup check for {tenant.name}")
                for (tenant, own), pdf in zip(mine, pdfs)]


def _this_runs(written: list[Path], name: str) -> Path | None:
    """The output file ``name`` if this run wrote it (an older file of that name is never taken)."""
    return next((path for path in written if path.name == name), None)


def _pdf(run: RunResult, written: list[Path]) -> bytes:
    """The PDF report: the one this run just wrote if it wrote one, else rendered now."""
    pdf = _this_runs(written, "report.pdf")
    if pdf is not None:
        return pdf.read_bytes()
    from auditor.render import RenderOptions, get_renderer

    return get_renderer("pdf").render(run, RenderOptions())
