"""Escape sequences and bidi overrides in tenant names and Stripe's strings reach the terminal only as visible text.

A tenant name holding ``ESC ]0;pwned BEL`` would set the window title, ``ESC [2K``
erase a row, U+202E turn a row around. Every command that writes untrusted
text to the terminal (run's table, checklist, diff, configuration errors, logs)
shows them as ``\\x1b`` and ``<U+202E>``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.config import Environment
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from auditor.terminal import visible
from tests.stub_stripe import StubStripe, make_account, make_endpoint

ROOT = Path(__file__).resolve().parents[2]
CID = "ESCAPES0000000000001"
KEY = "sk_test_51Escapes" + "E" * 40
NAME_TOML = r"Evil\u001b]0;pwned\u0007 \u202eHbmG \u2066x\u2069\u200f\u061c\u009b31m"
HOSTILE = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069", "\u200f", "\u061c"]
URL = callback_url(CID, Environment.STAGE) + "\x1b[2K\u202e/evil"


def _tenant_file(tmp_path: Path) -> Path:
    config = tmp_path / "tenants.toml"
    config.write_text(f'[[tenants]]\ncompany_id = "{CID}"\nname = "{NAME_TOML}"\n[tenants.stage]\n'
                      f'account_id = "acct_1Escapes00000001"\nsecret_key = "{KEY}"\n', encoding="utf-8")
    return config


def _world() -> dict:
    endpoint = make_endpoint("we_escapes", URL, list(REQUIRED_EVENTS), description="desc \x1b]0;pwned\x07")
    return {KEY: {"account": make_account("acct_1Escapes00000001", name="\x1b[31mRed\u202e"),
                  "webhook_endpoints": [endpoint], "events": []}}


def _audit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _raw(text: str) -> list[str]:
    return [repr(c) for c in HOSTILE if c in text]


def test_run_checklist_and_diff_show_escapes_instead_of_sending_them(tmp_path) -> None:
    config = _tenant_file(tmp_path)
    offline = _audit(["run", "--all-tenants", "--config", str(config), "--offline", "--format", "json",
                      "--output", str(tmp_path / "old")], tmp_path)
    with StubStripe(_world()) as stub:
        common = ["--config", str(config), "--stripe-api-base", stub.url, "--retries", "0"]
        run = _audit(["-vv", "run", "--all-tenants", *common, "--format", "table,json",
                      "--output", str(tmp_path / "new")], tmp_path)
        checklist = _audit(["checklist", "--tenant", CID, "--env", "stage", *common, "--format", "table"], tmp_path)
    diff = _audit(["diff", str(tmp_path / "old" / "results.json"), str(tmp_path / "new" / "results.json")], tmp_path)
    assert offline.returncode in (0, 1), offline.stderr
    assert run.returncode == 1, run.stderr  # the URL is not the callback URL
    assert checklist.returncode == 1, checklist.stderr
    assert diff.returncode == 1, diff.stderr  # the online run has a new failure
    outputs = {"run stdout": run.stdout, "run stderr (-vv)": run.stderr, "checklist": checklist.stdout,
               "diff": diff.stdout}
    assert {name: _raw(text) for name, text in outputs.items()} == {name: [] for name in outputs}
    assert "Evil\\x1b]0;pwned\\x07 <U+202E>HbmG" in run.stdout  # shown, and readable as what it is
    assert "<U+202E>/evil" in run.stdout and "\\x1b[2K" in run.stdout
    assert "Evil\\x1b]0;pwned\\x07" in checklist.stdout and "Evil\\x1b]0;pwned\\x07" in diff.stdout


def test_configuration_error_naming_a_hostile_value_shows_it_escaped(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "A\\u001b]0;pwned\\u0007\\u202e"\n', encoding="utf-8")
    run = _audit(["run", "--all-tenants", "--config", str(config), "--offline"], tmp_path)
    assert run.returncode == 2, run.stderr
    assert _raw(run.stderr) == [] and "A\\x1b]0;pwned\\x07<U+202E> (tenants[0])" in run.stderr


@pytest.mark.parametrize("text, shown", [
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"), ("a\u202eb", "a<U+202E>b"), ("\u2066\u2069", "<U+2066><U+2069>"),
    ("\u200e\u200f\u061c", "<U+200E><U+200F><U+061C>"), ("\x9b2J\x7f", "\\x9b2J\\x7f"),
    ("t\tn\nr\r", "t\\x09n\\x0ar\\x0d"),
    ("Müller · ✓ 東京", "Müller · ✓ 東京"), ("zero\u200bwidth\ufeff", "zero<U+200B>width<U+FEFF>"),
])
def test_visible(text, shown) -> None:
    assert visible(text) == shown


def test_visible_keeps_line_breaks_only_when_asked() -> None:
    assert visible("a\nb\x1b", lines=True) == "a\nb\\x1b"
