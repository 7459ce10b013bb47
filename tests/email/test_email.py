"""Compliance emails through a real SMTP server on loopback (aiosmtpd), and the run history."""

from __future__ import annotations

import email
import email.policy
import io
import re
import socket
from email.message import Message
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from auditor.cli import main
from auditor.history import previous_run, stored_runs

ACCOUNT = "1AbCdEfGhIjKlMnO"
TENANTS = {"ALPHA000000000000001": "Alpha Media GmbH", "BETA0000000000000002": "Beta Verlag AG"}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def write_fleet(tmp_path: Path, broken: set[str] = frozenset(),
                contacts: dict[str, str] | None = None) -> tuple[Path, list[str]]:
    """Two tenants with contacts; a tenant in ``broken`` has a test secret key on its live record (KEY004).

    ``contacts`` replaces a tenant's contact with a TOML string literal (escapes allowed).
    """
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(exist_ok=True)
    text, secrets = "", []
    for cid, name in TENANTS.items():
        contact = (contacts or {}).get(cid, f"pay@{cid.lower()}.test")
        text += f'[[tenants]]\ncompany_id = "{cid}"\nname = "{name}"\ncontact = "{contact}"\n'
        account = "1" + cid[:15]  # each tenant its own Stripe account (TEN003)
        for env, mode in (("stage", "test"), ("live", "live")):
            sk_mode = "test" if (env == "live" and cid in broken) else mode
            sk = f"sk_{sk_mode}_5{account}" + cid[:4] * 8
            wh = "whsec_" + (cid + env) * 2
            (secrets_dir / f"{cid}_{env}_sk").write_text(sk + "\n")
            (secrets_dir / f"{cid}_{env}_wh").write_text(wh + "\n")
            secrets += [sk, wh]
            text += (f'[tenants.{env}]\naccount_id = "acct_{account}"\n'
                     f'publishable_key = "pk_{mode}_5{account}{"P" * 30}"\n'
                     f'secret_key = {{ file = "secrets/{cid}_{env}_sk" }}\n'
                     f'signing_secret = {{ file = "secrets/{cid}_{env}_wh" }}\n')
    config = tmp_path / "tenants.toml"
    config.write_text(text)
    return config, secrets


def audit(tmp_path: Path, controller, *extra: str, broken: set[str] = frozenset(), tls: str = "none",
          contacts: dict[str, str] | None = None) -> int:
    config, _ = write_fleet(tmp_path, broken, contacts)
    return main(["run", "--all-tenants", "--offline", "--config", str(config), "--format", "json",
                 "--output", str(tmp_path / "out"), "--history", str(tmp_path / "history"),
                 "--smtp-host", "127.0.0.1", "--smtp-port", str(controller.port), "--smtp-tls", tls, *extra])


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.default)  # unfolds long headers


def test_message_structure_subject_and_recipients(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-to", "cfo@plenigo.test",
                 broken={"BETA0000000000000002"})
    assert code == 1
    [(rcpts, raw)] = inbox.messages
    msg = parse(raw)
    assert rcpts == ["ops@plenigo.test", "cfo@plenigo.test"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    assert msg["Subject"].startswith("plenigo Stripe audit 20") and msg["Subject"].endswith(
        ": 1 failing, 0 errors of 4 records")
    html = alternative.get_payload()[1].get_payload(decode=True).decode()
    assert "Beta Verlag AG" in html and "KEY004" in html and "<script" not in html and "<link" not in html


def test_changes_after_two_runs_one_fixed_one_broken(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    audit(tmp_path, controller, broken={"ALPHA000000000000001"})  # first run: history only, no mail asked
    code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", broken={"BETA0000000000000002"})
    assert code == 1 and len(stored_runs(tmp_path / "history")) == 2
    msg = parse(inbox.messages[-1][1])
    assert msg["Subject"].endswith("1 failing, 0 errors, 1 new, 1 resolved of 4 records")
    text = msg.get_payload()[0].get_payload()[0].get_payload(decode=True).decode()
    new, resolved = text.index("New failures (1)"), text.index("Resolved (1)")
    assert new < resolved  # news first
    assert "BETA0000000000000002" in text[new:resolved] and "ALPHA000000000000001" in text[resolved:]


def attached_pdf_text(raw: bytes) -> str:
    [pdf] = [p.get_payload(decode=True) for p in parse(raw).walk() if p.get_content_type() == "application/pdf"]
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("formats", ["json", "json,pdf"])
def test_the_mailed_pdf_compares_with_the_previous_run_whatever_format_was_chosen(tmp_path, smtp, capsys,
                                                                                  formats) -> None:
    """The attachment is the same report whether or not this run also wrote report.pdf."""
    controller, inbox = smtp
    audit(tmp_path, controller, broken={"ALPHA000000000000001"})  # the previous run, stored in the history
    code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--format", formats,
                 broken={"BETA0000000000000002"})
    assert code == 1
    text = attached_pdf_text(inbox.messages[-1][1])
    assert "Changes since the previous run" in text
    changes = text[text.index("Changes since the previous run"):]
    assert "BETA0000000000000002" in changes and "ALPHA000000000000001" in changes  # one new, one resolved


def test_email_when(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    assert audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-when", "failures") == 0
    assert inbox.messages == []  # everything passed
    assert audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-when", "changes") == 0
    assert inbox.messages == []  # same findings as the run before
    audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-when", "changes",
          broken={"ALPHA000000000000001"})
    assert len(inbox.messages) == 1
    audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-when", "changes",
          broken={"ALPHA000000000000001"})
    assert len(inbox.messages) == 1  # the same failure again is no change
    audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-when", "failures",
          broken={"ALPHA000000000000001"})
    assert len(inbox.messages) == 2  # but it is still a failure


def test_each_tenant_contact_sees_only_its_own_findings(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    audit(tmp_path, controller, "--email-tenant-contacts", broken=set(TENANTS))
    assert len(inbox.messages) == 2
    for rcpts, raw in inbox.messages:
        [contact] = rcpts
        mine = next(c for c in TENANTS if c.lower() in contact)
        other = next(c for c in TENANTS if c != mine)
        text = raw.decode("utf-8", "replace")
        body = "".join(p.get_payload(decode=True).decode("utf-8", "replace")
                       for p in parse(raw).walk() if p.get_content_type() in ("text/plain", "text/html"))
        assert mine in body and TENANTS[mine] in body
        assert other not in text and TENANTS[other] not in body
        [pdf] = [p.get_payload(decode=True) for p in parse(raw).walk() if p.get_content_type() == "application/pdf"]
        pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert mine in pdf_text and other not in pdf_text  # its own report attached, laid out for it alone


def test_a_tenant_contact_gets_its_own_sheet_tagged_with_its_own_results_attached(tmp_path, smtp, capsys) -> None:
    """Not the fleet report cut down: the tenant's verdict per record, then what to fix, then what Stripe answered."""
    controller, inbox = smtp
    audit(tmp_path, controller, "--email-tenant-contacts", broken={"ALPHA000000000000001"})
    sheets = {rcpts[0]: next(p.get_payload(decode=True) for p in parse(raw).walk()
                             if p.get_content_type() == "application/pdf") for rcpts, raw in inbox.messages}
    [alpha] = [pdf for contact, pdf in sheets.items() if "alpha" in contact]
    reader = PdfReader(io.BytesIO(alpha))
    first = reader.pages[0].extract_text()
    assert first.lstrip().startswith("Stripe setup check for Alpha Media GmbH")
    assert re.search(r"live\s+FAIL\s+KEY004", first) and re.search(r"stage\s+PASS\s+none", first)
    assert "What to fix" in first and "HOW TO FIX" in first  # the heading is set in capitals
    text = "".join(page.extract_text() for page in reader.pages)
    assert "What Stripe answered" in text
    assert "Tenants × environments" not in text and "By rule" not in text  # no fleet chapters for one tenant
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged, as report.pdf
    attached = reader.attachments["results.json"][0].decode()
    assert "ALPHA000000000000001" in attached and "BETA0000000000000002" not in attached


def test_smtp_down_keeps_reports_and_history(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("auditor.mail.time", SimpleNamespace(sleep=lambda s: None))  # this module's waits only
    config, _ = write_fleet(tmp_path)
    code = main(["run", "--all-tenants", "--offline", "--config", str(config), "--format", "json,html",
                 "--output", str(tmp_path / "out"), "--history", str(tmp_path / "history"), "--email-to", "x@y.test",
                 "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()), "--smtp-tls", "none"])
    err = capsys.readouterr().err
    assert code == 4  # every record passed: 4, not 5
    assert "error: email: cannot connect to the SMTP server" in err
    assert "(1 of 1 message(s) not sent, to: x@y.test)" in err
    assert (tmp_path / "out" / "results.json").exists() and (tmp_path / "out" / "report.html").exists()
    assert previous_run(tmp_path / "history") is not None


def test_starttls_not_offered_refuses_to_send_in_clear(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", tls="starttls")
    assert code == 4 and inbox.messages == []
    assert "does not offer STARTTLS; refusing to send in clear" in capsys.readouterr().err


def test_no_secret_in_any_message(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    _, secrets = write_fleet(tmp_path)
    audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-tenant-contacts", broken=set(TENANTS))
    assert len(inbox.messages) == 3
    for _, raw in inbox.messages:
        decoded = raw + b"".join(p.get_payload(decode=True) or b"" for p in parse(raw).walk()
                                 if not p.is_multipart())
        for secret in secrets:
            assert secret.encode() not in decoded


def test_history_keep_and_diff(tmp_path, smtp, capsys) -> None:
    controller, _ = smtp
    audit(tmp_path, controller, broken={"ALPHA000000000000001"})
    audit(tmp_path, controller, broken={"BETA0000000000000002"})
    runs = stored_runs(tmp_path / "history")
    assert len(runs) == 2
    assert [r.status.value for r in previous_run(tmp_path / "history").records][-1] == "fail"
    audit(tmp_path, controller, "--keep", "1")
    kept = stored_runs(tmp_path / "history")
    assert len(kept) == 1 and kept[0] not in runs
    assert previous_run(tmp_path / "history").summary["fail"] == 0


def test_audit_diff(tmp_path, capsys) -> None:
    for name, broken in (("old", {"ALPHA000000000000001"}), ("new", {"BETA0000000000000002"})):
        config, _ = write_fleet(tmp_path / name, broken) if (tmp_path / name).mkdir() is None else (None, None)
        main(["run", "--all-tenants", "--offline", "--config", str(config), "--format", "json",
              "--output", str(tmp_path / name / "out")])
    capsys.readouterr()
    code = main(["diff", str(tmp_path / "old" / "out" / "results.json"),
                 str(tmp_path / "new" / "out" / "results.json")])
    out = capsys.readouterr().out
    assert code == 1  # new failures: a CI step can gate on `audit diff`
    assert out.index("New failures (1)") < out.index("Resolved (1)")
    assert "1 new, 1 resolved, 0 new errors" in out
    (tmp_path / "broken.json").write_text("{")
    assert main(["diff", str(tmp_path / "broken.json"), str(tmp_path / "new" / "out" / "results.json")]) == 2


class Moody(Inbox):
    """An SMTP server with faults: refuses some recipients, answers 451 to the DATA commands numbered in ``busy``,
    and 554 after DATA to every message for a recipient in ``reject``."""

    def __init__(self, refuse: set[str] = frozenset(), busy: set[int] = frozenset(),
                 reject: set[str] = frozenset()) -> None:
        super().__init__()
        self.refuse, self.busy, self.reject, self.data_commands = refuse, busy, reject, 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.data_commands in self.busy:
            return "451 4.3.0 try again later"
        if self.reject & set(envelope.rcpt_tos):
            return "554 5.7.1 message content rejected"
        return await super().handle_DATA(server, session, envelope)


def serve(handler, **kwargs) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


def test_a_refused_contact_costs_only_its_own_message(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("auditor.mail.time", SimpleNamespace(sleep=lambda s: None))  # this module's waits only
    beta = "pay@beta0000000000000002.test"
    controller = serve(Moody(refuse={beta}))
    try:
        code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-tenant-contacts")
    finally:
        controller.stop()
    err = capsys.readouterr().err
    assert code == 4 and f"refused the recipient {beta}: 550 5.1.1 no such mailbox" in err
    assert "sent 2 of 3 email(s)" in err
    delivered = sorted(r for rcpts, _ in controller.handler.messages for r in rcpts)
    assert delivered == ["ops@plenigo.test", "pay@alpha000000000000001.test"]


def test_a_busy_server_is_retried_and_nothing_is_sent_twice(tmp_path, capsys, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("auditor.mail.time", SimpleNamespace(sleep=waits.append))
    controller = serve(Moody(busy={2, 3}))  # the second message, twice: the first must not be sent again
    try:
        code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--email-tenant-contacts")
    finally:
        controller.stop()
    assert code == 0, capsys.readouterr().err
    delivered = sorted(r for rcpts, _ in controller.handler.messages for r in rcpts)
    assert delivered == ["ops@plenigo.test", "pay@alpha000000000000001.test", "pay@beta0000000000000002.test"]
    assert waits == [2.0, 4.0]  # two reconnections, backing off


def test_smtp_login_comes_from_the_environment_only(tmp_path, capsys, monkeypatch) -> None:
    from aiosmtpd.smtp import AuthResult

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, data):
        logins.append((data.login, data.password))
        return AuthResult(success=True)

    password = "s3cret-smtp-pass" + "word"
    monkeypatch.setenv("AUDIT_SMTP_USER", "audit-bot")
    monkeypatch.setenv("AUDIT_SMTP_PASSWORD", password)
    controller = serve(Inbox(), authenticator=authenticator, auth_require_tls=False)
    try:
        code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test")
    finally:
        controller.stop()
    out, err = capsys.readouterr()
    assert code == 0 and logins == [(b"audit-bot", password.encode())]
    assert len(controller.handler.messages) == 1 and password not in out + err
    assert main(["run", "--all-tenants", "--offline", "--config", str(tmp_path / "tenants.toml"),
                 "--smtp-password", password]) == 2  # never from a flag
    capsys.readouterr()


def test_an_older_report_pdf_in_the_output_folder_is_never_attached(tmp_path, smtp, capsys) -> None:
    controller, inbox = smtp
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.pdf").write_bytes(b"%PDF-1.7 last week's report")
    audit(tmp_path, controller, "--email-to", "ops@plenigo.test")  # --format json: no PDF written this run
    [(_, raw)] = inbox.messages
    [pdf] = [p.get_payload(decode=True) for p in parse(raw).walk() if p.get_content_type() == "application/pdf"]
    assert b"last week" not in pdf and "ALPHA000000000000001" in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


ALPHA_CONTACT, BETA_CONTACT = "pay@alpha000000000000001.test", "pay@beta0000000000000002.test"


def delivered_to(controller) -> list[str]:
    return sorted(r for rcpts, _ in controller.handler.messages for r in rcpts)


def audit_with(handler, tmp_path, *extra: str, smtputf8: bool = True, **kwargs) -> tuple[int, Controller]:
    controller = serve(handler, enable_SMTPUTF8=smtputf8)
    try:
        code = audit(tmp_path, controller, *extra, **kwargs)
    finally:
        controller.stop()
    return code, controller


def test_each_refused_recipient_of_a_shared_message_is_named(tmp_path, capsys) -> None:
    code, controller = audit_with(Moody(refuse={"gone@plenigo.test"}), tmp_path,
                                  "--email-to", "ops@plenigo.test", "--email-to", "gone@plenigo.test")
    err = capsys.readouterr().err
    assert delivered_to(controller) == ["ops@plenigo.test"]  # the others still get it
    assert "error: email: the SMTP server refused the recipient gone@plenigo.test: 550 5.1.1 no such mailbox" in err
    assert code == 4  # a clean audit, but the mail did not reach everyone


def test_a_message_rejected_after_data_does_not_stop_the_later_ones(tmp_path, capsys, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("auditor.mail.time", SimpleNamespace(sleep=waits.append))
    code, controller = audit_with(Moody(reject={ALPHA_CONTACT}), tmp_path, "--email-to", "ops@plenigo.test",
                                  "--email-tenant-contacts", broken={"BETA0000000000000002"})
    err = capsys.readouterr().err
    assert delivered_to(controller) == ["ops@plenigo.test", BETA_CONTACT]  # beta's message comes after alpha's
    assert controller.handler.data_commands == 3 and waits == []  # a permanent answer is not retried
    assert f"rejected the message to {ALPHA_CONTACT}: 554 5.7.1 message content rejected" in err
    assert "sent 2 of 3 email(s)" in err
    assert code == 5  # findings, and a mail failed


@pytest.mark.parametrize("contact, problem", [
    ("pay@beta.test>\\r\\nBcc: spy@evil.test", "contains a control character (U+000D)"),
    ("not an address", "contains space (U+0020)"),
    ("@beta.test", "has nothing before the @"),
])
def test_a_malformed_contact_costs_only_its_own_tenants_mail(tmp_path, capsys, contact, problem) -> None:
    code, controller = audit_with(Moody(), tmp_path, "--email-to", "ops@plenigo.test", "--email-tenant-contacts",
                                  contacts={"BETA0000000000000002": contact})
    err = capsys.readouterr().err
    assert delivered_to(controller) == ["ops@plenigo.test", ALPHA_CONTACT]  # the ops report included
    assert all(b"spy@evil.test" not in raw for _, raw in controller.handler.messages)
    assert "error: email: tenant 'Beta Verlag AG' (BETA0000000000000002, " in err and problem in err
    assert "its findings were not mailed" in err and code == 4


def test_a_malformed_contact_of_a_tenant_not_audited_is_not_a_mail_failure(tmp_path, capsys) -> None:
    config, _ = write_fleet(tmp_path, contacts={"BETA0000000000000002": "not an address"})
    controller = serve(Moody())
    try:
        code = main(["run", "--tenant", "ALPHA000000000000001", "--offline", "--config", str(config),
                     "--format", "json", "--output", str(tmp_path / "out"), "--email-tenant-contacts",
                     "--smtp-host", "127.0.0.1", "--smtp-port", str(controller.port), "--smtp-tls", "none"])
    finally:
        controller.stop()
    assert delivered_to(controller) == [ALPHA_CONTACT] and code == 0, capsys.readouterr().err


def test_an_address_the_server_cannot_carry_costs_only_its_message(tmp_path, capsys) -> None:
    """Without SMTPUTF8 an international address cannot be sent; that is not a STARTTLS problem of the server."""
    code, controller = audit_with(Moody(), tmp_path, "--email-to", "ops@plenigo.test", "--email-tenant-contacts",
                                  contacts={"ALPHA000000000000001": "jörg@alpha.test"}, smtputf8=False)
    err = capsys.readouterr().err
    assert delivered_to(controller) == ["ops@plenigo.test", BETA_CONTACT]
    assert "the message to jörg@alpha.test was not sent" in err and "STARTTLS" not in err and code == 4


def test_exit_code_5_when_the_mail_fails_after_findings(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("auditor.mail.time", SimpleNamespace(sleep=lambda s: None))
    config, _ = write_fleet(tmp_path, broken={"ALPHA000000000000001"})
    code = main(["run", "--all-tenants", "--offline", "--config", str(config), "--format", "json",
                 "--output", str(tmp_path / "out"), "--email-to", "x@y.test",
                 "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()), "--smtp-tls", "none"])
    assert "cannot connect to the SMTP server" in capsys.readouterr().err
    assert code == 5 and (tmp_path / "out" / "results.json").exists()


@pytest.mark.parametrize("address, problem", [
    ("pay@example.test", None), ("plenigo-stripe-audit@localhost", None), ("jörg@exämple.test", None),
    ("a@b.c>\r\nBcc: x@y.z", "contains a control character (U+000D)"), ("a@b.c\n", "contains a control character"),
    ("not an address", "contains space"), ("@b.test", "has nothing before the @"), ("ab.test", "has no @"),
    ("a@", "has no valid domain"), ("a@b..test", "has no valid domain"), ("Ops <a@b.test>", "contains space"),
    ("a@b.test,c@d.test", "contains '@'"), ("a,b@c.test", "contains ','"), ("a@b\u202e.test", "(U+202E)"),
])
def test_address_problem(address, problem) -> None:
    from auditor.mail import address_problem

    found = address_problem(address)
    assert found == problem if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize("option, address", [("--email-to", "ops@plenigo.test\r\nBcc: spy@evil.test"),
                                             ("--email-to", "Ops Team"), ("--email-from", "@plenigo.test")])
def test_a_malformed_email_option_is_a_usage_error_before_the_audit(tmp_path, capsys, option, address) -> None:
    config, _ = write_fleet(tmp_path)
    code = main(["run", "--all-tenants", "--offline", "--config", str(config), "--format", "json",
                 "--output", str(tmp_path / "out"), "--email-to", "ops@plenigo.test", option, address])
    err = capsys.readouterr().err
    assert code == 2 and option in err and "give one address like name@example.com" in err
    assert not (tmp_path / "out").exists()  # nothing audited, nothing written


def test_no_connection_when_every_contact_is_malformed(tmp_path, capsys, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("auditor.mail.time", SimpleNamespace(sleep=waits.append))
    config, _ = write_fleet(tmp_path, contacts={cid: "not an address" for cid in TENANTS})
    code = main(["run", "--all-tenants", "--offline", "--config", str(config), "--format", "json",
                 "--output", str(tmp_path / "out"), "--email-tenant-contacts",
                 "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()), "--smtp-tls", "none"])
    err = capsys.readouterr().err
    assert err.count("its findings were not mailed") == 2 and "SMTP server" not in err and waits == []
    assert code == 4


# --- The email's first screen (issue 15): a cap, severity on every row, a link to the published report ---

def _fleet_email(report_url: str | None = None, attached: bool = True, tenants: int = 300) -> tuple[str, str]:
    from auditor.mail import compose
    from tests.render import synthetic

    run = synthetic.fleet(tenants)
    message = compose(run, None, "audit@plenigo.test", ["ops@plenigo.test"], b"%PDF-1.7 stand-in" if attached else None,
                      report_url=report_url)
    parts = {p.get_content_type(): p.get_content() for p in message.walk()
             if p.get_content_type() in ("text/plain", "text/html")}
    return parts["text/html"], parts["text/plain"]


def test_email_for_300_tenants_is_capped_with_severity_on_every_row() -> None:
    from auditor.render.email import EMAIL_ROWS

    html, text = _fleet_email("https://reports.plenigo.test/stripe/2026-11-22/report.html")
    rows = [line for line in text.splitlines() if line.startswith("  - [")]
    records = text[text.index("Records with findings"):text.index("Waived checks")]
    record_rows = [line for line in records.splitlines() if line.startswith("  - [")]
    assert len(record_rows) == EMAIL_ROWS  # capped: not 100+ rows
    assert all(re.match(r"  - \[(critical|high|medium|low|info)\] ", line) for line in rows)
    more = re.search(r"… and (\d+) more records in the attached PDF report and https://reports\.plenigo\.test/",
                     records)
    assert more and int(more.group(1)) + EMAIL_ROWS == int(re.search(r"Records with findings \(([\d,]+)\)",
                                                                      records).group(1).replace(",", ""))
    assert html.count('<a href="https://reports.plenigo.test/stripe/2026-11-22/report.html#T0') >= EMAIL_ROWS
    assert "the full report</a> and the attached PDF" in html
    # the first screen comes first: counts, severity counts, top actions, errors by cause with the fix
    order = ["Failed checks:", "Top actions", "Could not be audited", "Fix: The key is a restricted key",
             "Records with findings"]
    assert [html.index(m) for m in order] == sorted(html.index(m) for m in order)


def test_email_without_a_report_url_points_at_the_attachment() -> None:
    html, text = _fleet_email()
    assert "more records in the attached PDF report" in text and "<a href" not in html


def test_email_info_is_neutral_and_new_failures_show_severity(tmp_path, smtp, capsys) -> None:
    from auditor.render.charts import SEVERITY_COLORS

    controller, inbox = smtp
    audit(tmp_path, controller, broken={"ALPHA000000000000001"})
    audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--report-url", "https://r.plenigo.test/latest/report.html",
          broken={"BETA0000000000000002"})
    msg = parse(inbox.messages[-1][1])
    text = msg.get_payload()[0].get_payload()[0].get_payload(decode=True).decode()
    html = msg.get_payload()[0].get_payload()[1].get_payload(decode=True).decode()
    new = text[text.index("New failures (1)"):]
    assert new.splitlines()[1].startswith("  - [critical] KEY004 Beta Verlag AG")
    assert "Full report: https://r.plenigo.test/latest/report.html" in text
    assert f"background:{SEVERITY_COLORS['info']}" in html  # the info badge of the severity counts: neutral grey


def test_report_url_must_be_a_web_address(tmp_path, smtp, capsys) -> None:
    controller, _ = smtp
    code = audit(tmp_path, controller, "--email-to", "ops@plenigo.test", "--report-url", "javascript:alert(1)")
    assert code == 2 and "is not an http(s) URL" in capsys.readouterr().err


# --- The scheduled email as a reader sees it: one screen above the fold, also after a run with many changes ---

def _changed_fleet_email(tmp_path: Path) -> tuple[Path, object]:
    """A 300-tenant run compared with a previous run of other findings: 145 new failures, 224 new errors."""
    from auditor.changes import compare
    from auditor.mail import compose
    from tests.render import synthetic

    run = synthetic.fleet(300)
    changes = compare(synthetic.fleet(300, seed=8), run)
    message = compose(run, changes, "audit@plenigo.test", ["ops@plenigo.test"], b"%PDF-1.7 stand-in",
                      report_url="https://reports.plenigo.test/stripe/report.html")
    [html] = [p.get_content() for p in message.walk() if p.get_content_type() == "text/html"]
    page = tmp_path / "email.html"
    page.write_text(html, encoding="utf-8")
    return page, changes


def test_email_with_many_changes_shows_the_first_screen_above_the_fold(tmp_path) -> None:
    """In Chromium at 1280 × 900: counts, top actions, errors by cause and the news all start on the first screen."""
    from selenium.webdriver.common.by import By

    from tests.render.test_browser import _browser

    page, changes = _changed_fleet_email(tmp_path)
    assert len(changes.new_failures) > 100 and len(changes.new_errors) > 100  # a run with much news
    driver = _browser()
    try:
        driver.get(page.as_uri())
        height = driver.execute_script("return window.innerHeight;")

        def top(text: str) -> float:
            element = driver.find_element(By.XPATH, f"//div[starts-with(normalize-space(.), '{text}')]")
            return driver.execute_script("return arguments[0].getBoundingClientRect().top;", element)

        for heading in ("Failed checks:", "Top actions", "Could not be audited", "New since the run",
                        "New failures", "New errors"):
            assert top(heading) < height, heading
        assert top("Top actions") < top("New since the run")  # what to do first, then the news
    finally:
        driver.quit()


def test_email_changes_are_one_row_per_record_and_capped(tmp_path) -> None:
    """A 403 that stops eight checks is one row, not eight; each kind shows a few records and "and N more"."""
    from auditor.render.email import CHANGE_ROWS

    page, changes = _changed_fleet_email(tmp_path)
    html = page.read_text("utf-8")
    news = html[html.index("New since the run"):html.index("Records with findings")]
    errors = news[news.index("New errors"):news.index("Resolved")]
    records = {(c.company_id, c.environment) for c in changes.new_errors}
    assert f"New errors ({len(changes.new_errors)} on {len(records)} records)" in errors
    rows = re.findall(r'report\.html#(T\d+PLENIGOFLEET0-(?:stage|live))"', errors)
    assert len(rows) == len(set(rows)) == CHANGE_ROWS
    assert f"… and {len(records) - CHANGE_ROWS} more records with new errors in" in errors
    assert "WH002–009" in errors


def test_email_links_only_to_records_the_report_shows(tmp_path) -> None:
    """--report-url rows link to the record's findings; a resolved record that now passes has none to link to."""
    from tests.render import synthetic

    page, _ = _changed_fleet_email(tmp_path)
    html = page.read_text("utf-8")
    shown = {f"{r.company_id}-{r.environment}" for r in synthetic.fleet(300).records
             if r.status.value != "pass" or any(c.status.value in ("fail", "waived") for c in r.checks)}
    anchors = re.findall(r'report\.html#(T\d+PLENIGOFLEET0-(?:stage|live))"', html)
    assert anchors and set(anchors) <= shown
    resolved = html[html.index("Resolved ("):html.index("Records with findings")]
    assert 0 < resolved.count('report.html#T') < resolved.count("<tr>")  # some resolved records now pass
