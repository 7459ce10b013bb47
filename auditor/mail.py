"""Compliance report emails: compose (news first) and send over SMTP with the standard library.

One message to the operations team (summary, changes since the last run, most
frequent failing rules, the PDF attached) and, optionally, one per tenant
contact holding that tenant's findings only. Every text is scrubbed of secrets.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from auditor.changes import Changes
from auditor.redact import scrub
from auditor.render.templating import render_template
from auditor.render.view import top_failing_rules
from auditor.results import CheckStatus, RecordStatus, RunResult
from auditor.spool import records_of

log = logging.getLogger(__name__)

TlsMode = Literal["starttls", "ssl", "none"]
When = Literal["always", "failures", "changes"]


class EmailError(Exception):
    """The mail could not be sent; the message says why (never a secret)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: TlsMode = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    attempts: int = 3


def subject(run: RunResult, changes: Changes | None) -> str:
    """``plenigo Stripe audit 2026-11-23: 3 failing, 1 error, 2 new, 1 resolved of 412 records``."""
    s = run.summary
    parts = [f"{s.get('fail', 0)} failing", f"{s.get('error', 0)} error{'s' if s.get('error', 0) != 1 else ''}"]
    if changes is not None:
        parts += [f"{len(changes.new_failures)} new", f"{len(changes.resolved)} resolved"]
    return f"plenigo Stripe audit {run.generated_at:%Y-%m-%d}: {', '.join(parts)} of {s.get('records', 0)} records"


def should_send(when: When, run: RunResult, changes: Changes | None) -> bool:
    if when == "always":
        return True
    if when == "failures":
        return any(r.status is not RecordStatus.PASS for r in run.records)
    return changes is None or changes.any  # the first run is news too


def compose(run: RunResult, changes: Changes | None, sender: str, recipients: list[str], pdf: bytes | None,
            heading: str = "plenigo Stripe compliance audit") -> EmailMessage:
    """multipart/mixed: (text, HTML) alternative, then the PDF report."""
    context = dict(run=run, changes=changes, heading=heading, top_rules=top_failing_rules(run),
                   failing=[r for r in run.records if r.status is not RecordStatus.PASS], Status=CheckStatus,
                   waived=[(r, c) for r in run.records for c in r.checks if c.status is CheckStatus.WAIVED])
    message = EmailMessage()
    message["Subject"] = subject(run, changes)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="stripe-audit.plenigo.invalid")
    message.set_content(scrub(render_template("email.txt.j2", **context)))
    message.add_alternative(scrub(render_template("email.html.j2", **context)), subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf",
                               filename=f"plenigo-stripe-audit-{run.generated_at:%Y-%m-%d}.pdf")
    return message


def tenant_run(run: RunResult, company_id: str) -> RunResult:
    """The run cut down to one tenant's records: what that tenant's contact may see."""
    mine = run.model_copy(update={"records": records_of(run.records, company_id),
                                  "notices": [], "waiver_notices": []})
    mine.summarise()
    return mine


def send(messages: list[EmailMessage], smtp: SmtpSettings) -> None:
    """Send every message, reconnecting a few times; a message is never sent twice.

    A recipient the server refuses (a tenant contact with a wrong address) costs
    that message only: the others are still sent, and the error names it.
    """
    pending = list(messages)
    refused: list[str] = []
    last: Exception | None = None
    for attempt in range(smtp.attempts):
        try:
            with _connect(smtp) as client:
                while pending:
                    try:
                        client.send_message(pending[0])
                    except smtplib.SMTPRecipientsRefused as exc:
                        refused.append(", ".join(exc.recipients) or str(pending[0]["To"]))
                    pending.pop(0)
            break
        except (smtplib.SMTPException, OSError) as exc:
            last = exc
            if isinstance(exc, (smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError, ssl.SSLError)):
                break  # retrying cannot help
            log.info("sending mail failed (%s), attempt %d of %d", type(exc).__name__, attempt + 1, smtp.attempts)
            if attempt + 1 < smtp.attempts:
                time.sleep(2.0 * (attempt + 1))
    if pending:
        raise EmailError(_reason(last, smtp) + (f" ({len(messages) - len(pending)} of {len(messages)} sent)"
                                                if len(pending) < len(messages) else ""))
    if refused:
        raise EmailError(scrub(f"the SMTP server refused {len(refused)} of {len(messages)} message(s), "
                               f"to: {'; '.join(refused)}"))


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if smtp.tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        client.ehlo()
        if smtp.tls == "starttls":
            client.starttls(context=context)  # raises if the server does not offer it: never send in clear
            client.ehlo()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _reason(exc: Exception | None, smtp: SmtpSettings) -> str:
    where = f"{smtp.host}:{smtp.port}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return (f"the SMTP server {where} does not offer STARTTLS; refusing to send in clear "
                "(use --smtp-tls ssl, or --smtp-tls none on a trusted relay)")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the SMTP server {where} refused the login of AUDIT_SMTP_USER"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to the SMTP server {where} (connection refused)"
    return scrub(f"sending mail through {where} failed: {type(exc).__name__}: {exc}")[:300]
