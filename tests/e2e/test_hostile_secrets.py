"""Secrets that are not Stripe-shaped, with characters every output escapes, echoed back by Stripe.

The scrubber must find them in every form an output writes them: raw (the table,
the PDF's text), JSON-escaped (results.json, saved evidence, history), HTML- and
XML-escaped (report.html, junit.xml, checklists), repr-escaped (the SDK's log lines).
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from auditor.config import Environment
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from tests.stub_stripe import StubStripe, make_account, make_endpoint

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "acct_1HostileSecrets1"
GOOD_KEY = "sk_test_51HostileSecrets1" + "Q" * 30
SIGNING = "pass&word<b>\"q'uo\\té-1234"  # not Stripe-shaped: found only because the tenant file named it
SHORT_KEY = "abc1234"  # too short to be a key; still a secret the file gave
CID_A, CID_B = "HOST1LESECRETS000001", "HOST1LESECRETS000002"


def _tenant_file(tmp_path: Path) -> Path:
    (tmp_path / "wh").write_text(SIGNING)
    (tmp_path / "short").write_text(SHORT_KEY)
    config = tmp_path / "tenants.toml"
    config.write_text(f"""
[[tenants]]
company_id = "{CID_A}"
name = "Hostile A"
[tenants.stage]
account_id = "{ACCOUNT}"
publishable_key = "pk_test_51HostileSecrets1{'P' * 30}"
secret_key = "{GOOD_KEY}"
signing_secret = {{ file = "wh" }}

[[tenants]]
company_id = "{CID_B}"
name = "Hostile B"
[tenants.stage]
account_id = "acct_1HostileSecrets2"
publishable_key = "pk_test_51HostileSecrets2{'P' * 30}"
secret_key = {{ file = "short" }}
signing_secret = {{ file = "wh" }}
""")
    return config


def _world() -> dict:
    echo = f"echo of the key {SHORT_KEY} and the signing secret {SIGNING}"
    endpoint = make_endpoint("we_hostile", callback_url(CID_A, Environment.STAGE), list(REQUIRED_EVENTS),
                             description=f"signing secret is {SIGNING}")
    return {
        GOOD_KEY: {"account": make_account(ACCOUNT, name=f"Hostile {SIGNING}"), "webhook_endpoints": [endpoint],
                   "events": []},
        SHORT_KEY: {"account": make_account("acct_1HostileSecrets2"), "webhook_endpoints": [], "events": [],
                    "faults": {"status_forever": {"/v1/account": 403, "/v1/webhook_endpoints": 500},
                               "messages": {"/v1/account": echo, "/v1/webhook_endpoints": echo}}},
    }


def _audit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditor", "-vv", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _texts(folder: Path) -> dict[str, str]:
    texts = {}
    for path in folder.rglob("*"):
        if path.suffix == ".pdf":
            texts[str(path)] = "\n".join(page.extract_text() for page in PdfReader(path).pages)
        elif path.is_file():
            texts[str(path)] = path.read_text(encoding="utf-8")
    return texts


def test_irregular_secrets_never_appear_in_any_form(tmp_path) -> None:
    config = _tenant_file(tmp_path)
    out, evidence, history = tmp_path / "out", tmp_path / "evidence", tmp_path / "history"
    with StubStripe(_world()) as stub:
        run = _audit(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                      "--format", "table,json,html,pdf,junit", "--output", str(out), "--save-evidence",
                      str(evidence), "--history", str(history), "--retries", "1"], tmp_path)
        checklist = _audit(["checklist", "--tenant", CID_A, "--env", "stage", "--config", str(config),
                            "--stripe-api-base", stub.url, "--format", "table,html,pdf", "--output", str(out)],
                           tmp_path)
    assert run.returncode == 1, run.stderr  # A fails WH001 (the signing secret is not whsec_…); B could not be asked
    assert checklist.returncode == 1, checklist.stderr  # NOT READY: WH001 is critical
    texts = {"run stdout": run.stdout, "run stderr": run.stderr, "checklist stdout": checklist.stdout,
             "checklist stderr": checklist.stderr, **_texts(out), **_texts(evidence), **_texts(history)}
    assert any(name.endswith(".pdf") for name in texts) and any("evidence" in name for name in texts)
    assert "DEBUG" in run.stderr  # the SDK's own log lines were on
    assert "Hostile" in texts[str(out / "report.html")]  # the texts around the secrets are still there
    leaks = [(name, secret) for name, text in texts.items() for view in readings(text)
             for secret in (SIGNING, SHORT_KEY, GOOD_KEY) if secret in view]
    assert leaks == []


def readings(text: str) -> list[str]:
    """The text as a reader sees it after each kind of unescaping an output may apply (independent of the code)."""
    def unbackslash(value: str) -> str:
        return value.encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")

    views = [text, html.unescape(text), unbackslash(text)]
    views += [html.unescape(unbackslash(text)), unbackslash(html.unescape(text)), html.unescape(html.unescape(text))]
    return views
