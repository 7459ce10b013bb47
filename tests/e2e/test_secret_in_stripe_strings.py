"""A record's own secrets pasted into Stripe's strings (an endpoint URL, a description).

The reports diff and highlight an endpoint URL character by character: a key
inside it is split into ``<del>`` pieces that no output scrubber can recognise.
Evidence is therefore masked where it enters (collector, saved evidence), and
these tests read every output as a person would: HTML without its tags, the
PDF's extracted text, results.json decoded, the terminal table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from pypdf import PdfReader

from auditor.collect.saved import evidence_filename
from auditor.config import Environment
from auditor.evidence import RecordEvidence, WebhookEndpoint
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from tests.stub_stripe import StubStripe, make_account, make_endpoint

ROOT = Path(__file__).resolve().parents[2]
CID = "PASTEDKEY00000000001"
ACCOUNT = "acct_1PastedKey0000001"
LIVE_KEY = "sk_live_51PastedKey" + "aB3dE6gH9jK2mN5pQ8sT" * 3  # letters and digits that the URL also holds
SIGNING = "whsec_PastedSigning" + "hTtPs7wEbHoOk" * 2 + "00000000001xYz"
# each pasted over the company ID of the callback URL: the diff cuts it where its characters meet the expected URL's
_PREFIX = callback_url(CID, Environment.LIVE)[:-len(CID)]
URLS = {"we_pastedkey": _PREFIX + LIVE_KEY, "we_pastedsigning": _PREFIX + SIGNING}


def _tenant_file(tmp_path: Path) -> Path:
    config = tmp_path / "tenants.toml"
    config.write_text(f"""
[[tenants]]
company_id = "{CID}"
name = "Pasted Key GmbH"
[tenants.live]
account_id = "{ACCOUNT}"
publishable_key = "pk_live_51PastedKey{'P' * 40}"
secret_key = "{LIVE_KEY}"
signing_secret = "{SIGNING}"
""")
    return config


def _audit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "auditor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _readable(folder: Path) -> dict[str, str]:
    """Every output as a reader sees it: tags stripped and entities decoded, PDF text, JSON decoded."""
    texts = {}
    for path in folder.rglob("*"):
        if path.suffix == ".pdf":
            texts[path.name] = "".join(page.extract_text() for page in PdfReader(path).pages)
        elif path.suffix == ".html":
            texts[path.name] = _html_text(path.read_text(encoding="utf-8"))
        elif path.suffix == ".json":
            texts[path.name] = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
        elif path.is_file():
            texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def _html_text(markup: str) -> str:
    """The text a browser shows (tags dropped, entities decoded), by the standard library's HTML parser."""
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    """(output, secret) for each secret readable in an output, also across the line breaks a PDF puts in."""
    found = []
    for name, text in texts.items():
        joined = re.sub(r"\s+", "", text)
        for secret in (LIVE_KEY, SIGNING, LIVE_KEY[8:], SIGNING[6:]):
            if secret in text or secret in joined:
                found.append((name, secret[:10]))
    return found


def _check(run: subprocess.CompletedProcess, out: Path) -> None:
    assert run.returncode in (0, 1), run.stderr
    texts = {"stdout": run.stdout, "stderr": run.stderr, **_readable(out)}
    assert {"report.html", "report.pdf", "results.json"} <= texts.keys()
    for name in ("report.html", "report.pdf"):  # the endpoint URLs are shown (diffed), only their secrets masked
        assert _PREFIX in re.sub(r"\s+", "", texts[name]), name
    assert _leaks(texts) == []


def test_key_pasted_into_endpoint_url_is_masked_in_every_output(tmp_path) -> None:
    endpoints = [make_endpoint(eid, url, list(REQUIRED_EVENTS), livemode=True, description=f"key {LIVE_KEY}")
                 for eid, url in URLS.items()]
    world = {LIVE_KEY: {"account": make_account(ACCOUNT, name="Pasted Key GmbH"), "events": [],
                        "webhook_endpoints": endpoints}}
    out = tmp_path / "out"
    with StubStripe(world) as stub:
        run = _audit(["run", "--all-tenants", "--config", str(_tenant_file(tmp_path)), "--stripe-api-base", stub.url,
                      "--format", "table,json,html,pdf", "--output", str(out), "--retries", "0"], tmp_path)
    _check(run, out)


def test_saved_evidence_holding_a_key_is_masked_when_read(tmp_path) -> None:
    """Evidence written by hand or by an older version may hold the key: it is masked when loaded."""
    saved = tmp_path / "evidence"
    saved.mkdir()
    evidence = RecordEvidence(company_id=CID, environment="live", failed_events=[], webhook_endpoints=[
        WebhookEndpoint(id=eid, url=url, status="enabled", enabled_events=list(REQUIRED_EVENTS), livemode=True,
                        description=f"key {LIVE_KEY}") for eid, url in URLS.items()])
    (saved / evidence_filename(CID, "live")).write_text(evidence.model_dump_json(), encoding="utf-8")
    out = tmp_path / "out"
    run = _audit(["run", "--all-tenants", "--config", str(_tenant_file(tmp_path)), "--evidence", str(saved),
                  "--format", "table,json,html,pdf", "--output", str(out)], tmp_path)
    _check(run, out)
