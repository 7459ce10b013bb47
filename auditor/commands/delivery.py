"""The scheduled-run options of ``audit run``: history and compliance email (the work: auditor.app.delivery)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.app.delivery import DeliveryOptions

F = TypeVar("F", bound=Callable[..., Any])


def delivery_options(command: F) -> F:
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
                     help="Where this run's report.html is published: the email links its rows and "
                          "'and N more' there."),
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


def pop_delivery(kwargs: dict[str, Any]) -> DeliveryOptions:
    """Take the options of :func:`delivery_options` out of a command's keyword arguments."""
    return DeliveryOptions(**{name: kwargs.pop(name) for name in DeliveryOptions.__dataclass_fields__})
