"""``audit import`` fed what real exports hold: keys pasted into the wrong column, escape sequences, Windows files."""

from __future__ import annotations

import os
import pty
import select
import subprocess

import pytest

from auditor.config import load_tenants
from tests.ops import ROOT, audit_command, run_audit
from tests.ops.test_onboard import HEADER

PASTED = "sk_live_51" + "Q" * 40


@pytest.mark.parametrize("row", [
    f"ACME0000000000000001,Acme,,acct_1Acme,{PASTED},env:ACME_SK,,,,,",  # the secret key in the publishable key's
    f"{PASTED},Acme,,,,,,,,,",                                           # a shifted row: the key as company_id
    f"ACME0000000000000001,Acme {PASTED},,,,,,,,,",                      # in the name
    f"ACME0000000000000001,Acme,,,,,,,whsec_{'W' * 32},,",              # the signing secret in live_publishable_key
], ids=["publishable-key", "company-id", "name", "signing-secret-shifted"])
def test_a_secret_in_a_column_copied_as_entered_is_refused_and_never_repeated(tmp_path, row) -> None:
    (tmp_path / "tenants.csv").write_text(HEADER + "\n" + row + "\n")
    result = run_audit(["import", "tenants.csv"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "looks like a Stripe secret" in result.stderr and "the cell is not shown" in result.stderr
    assert "Q" * 20 not in result.stdout + result.stderr and "W" * 20 not in result.stdout + result.stderr
    assert not (tmp_path / "tenants.toml").exists()


def test_escape_sequences_in_a_cell_are_shown_not_sent_to_the_terminal(tmp_path) -> None:
    """On a terminal click passes escapes through; a company_id cell must not clear the screen or retitle it."""
    (tmp_path / "tenants.csv").write_text(HEADER + "\nAC\x1b[2J\x1b]0;pwned\x07ME1,Acme,,,,sk-not-a-ref,,,,,\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen([*audit_command(), "import", "tenants.csv"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(slave)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break  # bounded: the assertions below then fail with what arrived
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
        proc.wait(timeout=120)
    assert proc.returncode == 2, output
    assert b"\x1b" not in output and b"\x07" not in output, output
    assert b"AC\\x1b[2J" in output


def test_a_windows_export_with_bom_crlf_and_a_quoted_line_break_loads_as_entered(tmp_path) -> None:
    rows = [HEADER, 'WIN00000000000000001,"Fenster ""Quote"" \\ GmbH\r\nZweite Zeile",ops@win.test,acct_1Win,'
                    'pk_test_51Win ,env:WIN_SK,file:secrets/win_wh,,,,']
    (tmp_path / "tenants.csv").write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    result = run_audit(["import", "tenants.csv"], tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "win_wh").write_text("whsec_" + "V" * 32 + "\n")
    os.environ["WIN_SK"] = "sk_test_" + "K" * 30
    try:
        (tenant,) = load_tenants(tmp_path / "tenants.toml")
    finally:
        del os.environ["WIN_SK"]
    assert tenant.name == 'Fenster "Quote" \\ GmbH\r\nZweite Zeile'
    assert tenant.records[next(iter(tenant.records))].publishable_key == "pk_test_51Win "  # as entered


@pytest.mark.parametrize("cell", [f"command:echo {PASTED}", f"command:printf %s whsec_{'Q' * 32}", f"file:{PASTED}"],
                         ids=["command-echo", "command-printf", "file"])
def test_a_reference_that_contains_the_secret_itself_is_refused(tmp_path, cell) -> None:
    (tmp_path / "tenants.csv").write_text(HEADER + f"\nACME0000000000000001,Acme,,,,{cell},,,,,\n")
    result = run_audit(["import", "tenants.csv"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "column stage_secret_key" in result.stderr and "looks like a Stripe secret" in result.stderr
    assert "Q" * 20 not in result.stdout + result.stderr
    assert not (tmp_path / "tenants.toml").exists()
