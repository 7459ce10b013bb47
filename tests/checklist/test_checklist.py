"""The pre-go-live checklist on the sample fleet: READY, each blocking cause, CANNOT CHECK, instructions, PDF."""

from __future__ import annotations

import io
import socket
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from auditor.cli import main
from auditor.rules.guide import REQUIRED_EVENTS
from tests.e2e.test_fleet import SAMPLES, all_secrets

CONFIG = str(SAMPLES / "tenants.toml")
EVIDENCE = str(SAMPLES / "evidence")


def checklist(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["checklist", "--config", CONFIG, *argv])
    out, err = capsys.readouterr()
    for secret in all_secrets():
        assert secret not in out + err
    return code, out, err


@pytest.mark.parametrize("env", ["stage", "live"])
def test_a_correct_tenant_is_ready(capsys, env) -> None:
    code, out, _ = checklist(capsys, "--tenant", "8XYM4WU2V6NJUM5LZ6C9", "--env", env, "--evidence", EVIDENCE)
    assert code == 0
    assert out.rstrip().splitlines()[-1].startswith("VERDICT: READY")
    assert "gear symbol" in out.lower() and "Reveal" in out
    assert ("grey" if env == "live" else "orange") in out


@pytest.mark.parametrize(
    ("tenant", "env", "blocking", "words"),
    [
        ("BERGMANND1G1TAL00004", "live", ["5. The 15 webhook events", "10. Recent deliveries succeed"],
         ["✗ charge.dispute.closed", "✗ charge.dispute.funds_withdrawn", "✓ account.updated"]),
        ("K1ELERRUNDSCHAU00005", "live", ["4. Webhook endpoint"],
         ["expected: https://callbacks.plenigo.com/callbacks/v1.0/stripe/K1ELERRUNDSCHAU00005", "of another tenant"]),
        ("ALPENWELTABO00000006", "live", ["7. Endpoint enabled"], ["status disabled"]),
        ("N0RDL1CHTVERLAG00002", "live", ["3. Secret key"],  # Stripe answered for test mode: WH skipped
         ["a stage secret key"]),
        ("HAFENBL1CKMED1EN0003", "live", ["4. Webhook endpoint", "11. Account can take payments"],
         ["charges_enabled: no"]),
        ("ALPENWELTABO00000006", "stage", ["2. Publishable key", "4. Webhook endpoint"], ["a trailing newline"]),
    ],
)
def test_each_blocking_cause(capsys, tenant, env, blocking, words) -> None:
    code, out, _ = checklist(capsys, "--tenant", tenant, "--env", env, "--evidence", EVIDENCE)
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("VERDICT: NOT READY — blocking: ")
    assert last.removeprefix("VERDICT: NOT READY — blocking: ").split("; ") == blocking
    for w in words:
        assert w in out
    assert "action:" in out


def test_a_medium_finding_is_shown_but_does_not_block(capsys) -> None:
    """Kieler's stage has two plenigo endpoints (WH008, medium): visible and marked ✗, yet READY."""
    code, out, _ = checklist(capsys, "--tenant", "K1ELERRUNDSCHAU00005", "--env", "stage", "--evidence", EVIDENCE)
    assert " 9. [✗] Only one enabled plenigo endpoint" in out and "WH008 [medium] fail" in out
    assert "(blocking)" not in out
    assert code == 0 and out.rstrip().splitlines()[-1] == "VERDICT: READY — every critical and high item passes"


def test_no_record_for_the_environment_is_not_ready_with_steps(capsys) -> None:
    code, out, _ = checklist(capsys, "--tenant", "RHE1NUFERPODCAST0007", "--env", "live", "--evidence", EVIDENCE)
    assert code == 1
    assert "No record for this environment yet" in out
    assert "https://callbacks.plenigo.com/callbacks/v1.0/stripe/RHE1NUFERPODCAST0007" in out
    assert "VERDICT: NOT READY — the tenant has no live record yet" in out


def test_stripe_unreachable_cannot_check(capsys) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = checklist(capsys, "--tenant", "8XYM4WU2V6NJUM5LZ6C9", "--env", "live", "--stripe-api-base",
                             f"http://127.0.0.1:{port}", "--timeout", "1", "--retries", "0")
    assert code == 3
    assert "VERDICT: CANNOT CHECK — Stripe could not be asked: the connection to Stripe failed" in out


def test_instructions_need_no_stripe(capsys) -> None:
    code, out, _ = checklist(capsys, "--tenant", "8XYM4WU2V6NJUM5LZ6C9", "--env", "live", "--instructions",
                             "--stripe-api-base", "http://127.0.0.1:9")  # never contacted
    assert code == 0
    assert "https://callbacks.plenigo.com/callbacks/v1.0/stripe/8XYM4WU2V6NJUM5LZ6C9" in out
    assert all(event in out for event in REQUIRED_EVENTS)
    assert "pk_live_" in out and "sk_live_" in out and "grey" in out


def test_waived_critical_item_blocks_unless_accepted(tmp_path, capsys) -> None:
    waivers = tmp_path / "w.toml"
    waivers.write_text(f'[[waivers]]\nrule = "WH005"\ncompany_id = "ALPENWELTABO00000006"\nreason = "maintenance"\n'
                       f'expires = {date.today() + timedelta(days=30)}\napproved_by = "ops lead"\n')
    args = ["--tenant", "ALPENWELTABO00000006", "--env", "live", "--evidence", EVIDENCE, "--waivers", str(waivers)]
    code, out, _ = checklist(capsys, *args)
    assert code == 1 and "[W] Endpoint enabled" in out and "waived until" in out
    code, out, _ = checklist(capsys, *args, "--accept-waived")
    assert code == 0 and "VERDICT: READY" in out


def test_pdf_sign_off_sheet(tmp_path, capsys) -> None:
    code, _, _err = checklist(capsys, "--tenant", "BERGMANND1G1TAL00004", "--env", "live", "--evidence", EVIDENCE,
                              "--format", "pdf,html", "--output", str(tmp_path))
    pdf = tmp_path / "checklist-BERGMANND1G1TAL00004-live.pdf"
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert code == 1 and len(reader.pages) <= 2
    for expected in ("Bergmann Digital GmbH", "BERGMANND1G1TAL00004", "live", "NOT READY", "The 15 webhook events",
                     "charge.dispute.closed", "Checked by", "Date", "0.1.0"):
        assert expected in text, expected
    html = (tmp_path / "checklist-BERGMANND1G1TAL00004-live.html").read_text()
    for secret in all_secrets():
        assert secret not in text and secret not in html


def test_unknown_tenant_is_a_usage_error(capsys) -> None:
    code, _, err = checklist(capsys, "--tenant", "NOPE", "--env", "live", "--evidence", EVIDENCE)
    assert code == 2 and "no tenant with company_id 'NOPE'" in err


def test_a_wrong_mode_key_says_why_the_webhook_items_were_not_judged(capsys) -> None:
    """Nordlicht's live record holds the test key: Stripe answered for test mode, so nothing of it is shown as live."""
    code, out, _ = checklist(capsys, "--tenant", "N0RDL1CHTVERLAG00002", "--env", "live", "--evidence", EVIDENCE)
    assert code == 1
    assert "found: not judged" in out and "WH002 skipped: " in out and "(KEY004)" in out
    assert "plenigo-stage.com" not in out.split(" 4. ")[1]  # the test-mode endpoint is not shown as the live one
    assert "✗ account.updated" not in out
    assert "Reveal live key" not in out


def test_payouts_and_deadlines_are_items_that_do_not_block(capsys) -> None:
    code, out, _ = checklist(capsys, "--tenant", "HAFENBL1CKMED1EN0003", "--env", "live", "--evidence", EVIDENCE)
    assert code == 1
    assert "11. [✗] Account can take payments  (blocking)" in out
    assert "12. [✗] Payouts enabled" in out and "12. [✗] Payouts enabled  (blocking)" not in out
    assert "13. [✗] Nothing due with a deadline" in out and "past due: external_account" in out


def test_pdf_sheet_puts_the_verdict_first_and_is_tagged(tmp_path, capsys) -> None:
    """The reader sees NOT READY and why before the items; the sheet is tagged for screen readers."""
    checklist(capsys, "--tenant", "BERGMANND1G1TAL00004", "--env", "live", "--evidence", EVIDENCE,
              "--format", "pdf", "--output", str(tmp_path))
    reader = PdfReader(io.BytesIO((tmp_path / "checklist-BERGMANND1G1TAL00004-live.pdf").read_bytes()))
    first = " ".join(reader.pages[0].extract_text().split())
    assert first.index("NOT READY") < first.index("blocking:") < first.index("The 15 webhook events")
    assert "/StructTreeRoot" in reader.trailer["/Root"]
