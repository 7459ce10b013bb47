"""The scheduled-run options of ``audit run``: history and compliance email."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from auditor.changes import Changes, compare
from auditor.config import Tenant
from auditor.results import ExitCode, RunResult

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def delivery_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --history, --keep and the --email-*/--smtp-* options to a command."""
    options = [
        click.option("--history", type=click.Path(path_type=Path, file_okay=False),
                     help="Store each run's results here and compare with the previous run."),
        click.option("--keep", type=click.IntRange(1), default=None, help="Keep only the newest N runs in --history."),
        click.option("--email-to", multiple=True, metavar="ADDR", help="Mail the summary and PDF here (repeatable)."),
        click.option("--email-from", default="plenigo-stripe-audit@localhost", show_default=True, metavar="ADDR"),
        click.option("--email-when", type=click.Choice(["always", "failures", "changes"]), default="always",
                     show_default=True, help="Send only when something fails, or only when something changed."),
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


@dataclass(frozen=True)
class Delivery:
    history: Path | None
    keep: int | None
    email_to: tuple[str, ...]
    email_from: str
    email_when: str
    email_tenant_contacts: bool
    smtp_host: str
    smtp_port: int | None
    smtp_tls: str

    @classmethod
    def pop_from(cls, kwargs: dict[str, Any]) -> "Delivery":
        """Take this object's options out of a command's keyword arguments."""
        return cls(**{name: kwargs.pop(name) for name in cls.__dataclass_fields__})

    def previous(self) -> RunResult | None:
        """The last stored run (read before this run is stored)."""
        from auditor.history import previous_run

        return previous_run(self.history) if self.history else None

    def deliver(self, run: RunResult, previous: RunResult | None, tenants: list[Tenant], output: Path) -> int | None:
        """Store the run, then mail it; a mail that cannot be sent is exit code 4 (reports are written)."""
        if self.history:
            from auditor.history import store_run

            path = store_run(self.history, run, self.keep)
            click.echo(f"stored {path}", err=True)
        if not self.email_to and not self.email_tenant_contacts:
            return None
        changes = compare(previous, run) if previous is not None else None
        try:
            self._mail(run, changes, tenants, output)
        except Exception as exc:  # EmailError, or a PDF that could not be made: the reports are already written
            click.echo(f"error: the compliance email was not sent: {exc}", err=True)
            return ExitCode.EMAIL_FAILED
        return None

    def _mail(self, run: RunResult, changes: Changes | None, tenants: list[Tenant], output: Path) -> None:
        from auditor.mail import SmtpSettings, compose, send, should_send, tenant_run

        if not should_send(self.email_when, run, changes):  # type: ignore[arg-type]
            click.echo(f"no email: nothing to report for --email-when {self.email_when}", err=True)
            return
        pdf = _pdf(run, output)
        messages = [compose(run, changes, self.email_from, list(self.email_to), pdf)] if self.email_to else []
        if self.email_tenant_contacts:
            for tenant in tenants:
                mine = tenant_run(run, tenant.company_id)
                if tenant.contact and mine.records:
                    messages.append(compose(mine, None, self.email_from, [tenant.contact], _pdf(mine, None),
                                            heading=f"Stripe setup check for {tenant.name}"))
        smtp = SmtpSettings(host=self.smtp_host, port=self.smtp_port or _DEFAULT_PORTS[self.smtp_tls],
                            tls=self.smtp_tls, user=os.environ.get("AUDIT_SMTP_USER"),  # type: ignore[arg-type]
                            password=os.environ.get("AUDIT_SMTP_PASSWORD"))
        send(messages, smtp)
        click.echo(f"sent {len(messages)} email(s) through {smtp.host}:{smtp.port}", err=True)


def _pdf(run: RunResult, output: Path | None) -> bytes:
    """The PDF report: the one just written to ``output`` if there is one, else rendered now."""
    if output is not None and (output / "report.pdf").exists():
        return (output / "report.pdf").read_bytes()
    from auditor.render import RenderOptions, get_renderer

    return get_renderer("pdf").render(run, RenderOptions())
