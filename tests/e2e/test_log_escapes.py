"""``-vv`` logs the SDK's raw response bodies: a key Stripe echoes JSON-escaped (``sk\\u005flive…``) must not be
decodable from standard error, also when ``STRIPE_LOG=debug`` makes the SDK print on its own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from auditor.logs import decode_u_escapes

ROOT = Path(__file__).resolve().parents[2]
CID = "ESCAPEDKEY0000000001"
KEY = "sk_test_51EscapedKey" + "Zq8Wx3" * 8
SIGNING = "whsec_EscapedSigning" + "Mn4Rt7" * 6


def _u(text: str, every: bool) -> str:
    """JSON-escape the underscores (as some encoders do), or every character."""
    return "".join(f"\\u{ord(c):04x}" if every or c == "_" else c for c in text)


def _bodies() -> dict[str, bytes]:
    endpoints = [{"id": f"we_escaped{i}", "object": "webhook_endpoint", "url": f"https://example.com/{i}?k=@KEY{i}@",
                  "description": f"secret @SIG{i}@", "enabled_events": ["*"], "status": "enabled",
                  "livemode": False, "created": 1700000000, "api_version": None, "metadata": {}} for i in (0, 1)]
    listing = json.dumps({"object": "list", "data": endpoints, "has_more": False, "url": "/v1/webhook_endpoints"})
    for i, every in ((0, False), (1, True)):
        listing = listing.replace(f"@KEY{i}@", _u(KEY, every)).replace(f"@SIG{i}@", _u(SIGNING, every))
    account = {"id": "acct_1EscapedKey00001", "object": "account", "charges_enabled": True, "payouts_enabled": True,
               "details_submitted": True, "country": "DE", "requirements": {"currently_due": []}}
    events = {"object": "list", "data": [], "has_more": False, "url": "/v1/events"}
    return {"/v1/account": json.dumps(account).encode(), "/v1/webhook_endpoints": listing.encode(),
            "/v1/events": json.dumps(events).encode()}


class _Echo(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.bodies.get(self.path.split("?")[0], b'{"error": {"message": "no"}}')
        self.send_response(200 if self.path.split("?")[0] in self.bodies else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server():
    _Echo.bodies = _bodies()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _decoded(text: str) -> str:
    """Standard error as someone decoding it would read it: every \\u escape resolved, line breaks gone."""
    return re.sub(r"\s+", "", re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))


@pytest.mark.parametrize("stripe_log", [None, "debug"])
def test_json_escaped_key_in_a_logged_body_is_masked(tmp_path, echo_server, stripe_log) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text(f'[[tenants]]\ncompany_id = "{CID}"\n[tenants.stage]\nsecret_key = "{KEY}"\n'
                      f'signing_secret = "{SIGNING}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STRIPE_LOG", None)
    if stripe_log:
        env["STRIPE_LOG"] = stripe_log
    run = subprocess.run([sys.executable, "-m", "auditor", "-vv", "run", "--all-tenants", "--config", str(config),
                          "--stripe-api-base", echo_server, "--retries", "0", "--format", "table,json",
                          "--output", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode in (0, 1), run.stderr
    assert "we_escaped1" in run.stderr  # the raw body was logged
    for text in (run.stderr, run.stdout, (tmp_path / "out" / "results.json").read_text()):
        decoded = _decoded(text)
        assert [s[:12] for s in (KEY, SIGNING, KEY[8:], SIGNING[6:]) if s in decoded] == []


def test_decoding_keeps_control_characters_escaped() -> None:
    assert decode_u_escapes("sk\\u005flive \\\\u005f \\u001b[2J \\ud800") == "sk_live _ \\u001b[2J \\ud800"
