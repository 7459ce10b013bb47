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
import unicodedata
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from auditor.changes import Changes
from auditor.redact import scrub
from auditor.render.templating import render_template
from auditor.results import RecordStatus, RunResult
from auditor.spool import records_of

log = logging.getLogger(__name__)

TlsMode = Literal["starttls", "ssl", "none"]
When = Literal["always", "failures", "changes"]


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
            heading: str = "plenigo Stripe compliance audit", report_url: str | None = None) -> EmailMessage:
    """multipart/mixed: (text, HTML) alternative, then the PDF report."""
    from auditor.render.email import email_context

    context = email_context(run, changes, heading, attached=pdf is not None, report_url=report_url)
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


@dataclass
class SendReport:
    """What became of each message and recipient: a failure is reported, never dropped."""

    messages: int
    sent: int = 0  # messages the server took for at least one recipient
    failures: list[str] = field(default_factory=list)


def send(messages: list[EmailMessage], smtp: SmtpSettings) -> SendReport:
    """Send every message, reconnecting a few times; a message is never sent twice.

    The report names each recipient the server refused and each message it rejected
    (a permanent 5xx answer), with the server's reason: one bad address or one
    rejected message costs only itself, and delivery goes on with the next one.
    Transient trouble (4xx, a dropped connection) is retried by reconnecting.
    """
    report = SendReport(len(messages))
    if not messages:  # nothing left to send (every contact malformed): no connection, no retries
        return report
    pending = list(messages)
    last: Exception | None = None
    for attempt in range(smtp.attempts):
        try:
            with _connect(smtp) as client:
                while pending:
                    delivered, failures = _send_one(client, pending[0])
                    report.sent += delivered
                    report.failures += failures
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
        to = "; ".join(str(m["To"]) for m in pending)
        report.failures.append(scrub(f"{_reason(last, smtp)} ({len(pending)} of {len(messages)} message(s) "
                                     f"not sent, to: {to})"))
    return report


def _send_one(client: smtplib.SMTP, message: EmailMessage) -> tuple[bool, list[str]]:
    """Send one message: whether the server took it, and its permanent refusals.

    Transient trouble is raised so that the caller reconnects. A partly refused
    message has reached the others and must not be sent again, so each refused
    recipient is reported instead.
    """
    to = message["To"]
    try:
        refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        return False, [_refused(address, answer) for address, answer in exc.recipients.items()]
    except smtplib.SMTPResponseException as exc:  # MAIL FROM or DATA refused
        if not 500 <= exc.smtp_code < 600:
            raise
        return False, [scrub(f"the SMTP server rejected the message to {to}: {_answer(exc.smtp_code, exc.smtp_error)}")]
    except smtplib.SMTPNotSupportedError as exc:  # an address needs SMTPUTF8, which the server lacks
        return False, [scrub(f"the message to {to} was not sent: {exc}")]
    return True, [_refused(address, answer) for address, answer in refused.items()]


def _refused(address: str, answer: tuple[int, bytes]) -> str:
    return scrub(f"the SMTP server refused the recipient {address}: {_answer(*answer)}")


def _answer(code: int, text: bytes | str) -> str:
    """The server's reason, one line and short (it is shown to the operator)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())[:200]


_SPECIALS = set('<>()[]\\,;:"@')


def address_problem(address: str) -> str | None:
    """Why ``address`` is not one plain ``name@example.com`` address, or None.

    A contact comes from a tenant file: anything more than one address (a
    display name, a second address, a line break that smuggles in a ``Bcc:``)
    is refused before a message is built, so it can never redirect the mail.
    """
    for char in address:
        if unicodedata.category(char)[0] in "CZ":
            return f"contains {unicodedata.name(char, 'a control character').lower()} (U+{ord(char):04X})"
    local, at, domain = address.rpartition("@")
    if not at:
        return "has no @"
    if not local:
        return "has nothing before the @"
    if not domain or any(not label for label in domain.split(".")):
        return "has no valid domain after the @"
    bad = next((c for c in local + domain if c in _SPECIALS), None)
    if bad is not None:
        return f"contains {bad!r}"
    return None


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
