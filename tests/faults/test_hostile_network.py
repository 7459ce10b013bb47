"""A Stripe that misbehaves on purpose, on loopback: every answer has a deadline and a size cap,
no redirect is followed, no key crosses a proxy in clear, and a broken list or field is an error.

Real sockets (tests/stub_stripe.py); limits are made small through parameters so each test is
bounded in time and size. No test asserts how long anything took: a client without a deadline
would make the stub trickle until its give-up (two minutes) and then fail the test.
"""

from __future__ import annotations

import json
import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from auditor.cli import main
from auditor.collect.stripe_api import StripeSource, validate_api_base
from auditor.config import Environment, Record, Tenant
from auditor.evidence import ErrorKind, RecordEvidence
from tests.faults.fleet import build_fleet
from tests.rules.builders import secret
from tests.stub_stripe import StubStripe, _zeros_gzipped, make_account, make_endpoint, make_event

KEY = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "H" * 30
WARM = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "W" * 30  # a healthy key: imports and pools warmed before measuring
TENANT = Tenant(company_id="ACME0000000000000001", name="Acme", contact=None)


def world(faults: dict[str, Any] | None = None, **parts: Any) -> dict[str, dict[str, Any]]:
    entry = {"account": make_account("acct_1AbCdEfGhIjKlMnO", name="Acme"),
             "webhook_endpoints": [make_endpoint("we_1", "https://x.test", ["*"])], "events": []}
    return {KEY: {**entry, **parts, "faults": faults or {}}, WARM: dict(entry)}


def collect(stub: StubStripe, key: str = KEY, **options: Any) -> RecordEvidence:
    """One record's reads; a generous timeout, since tracemalloc and a loaded machine slow everything down."""
    source = StripeSource(api_base=stub.url, **{"timeout": 30.0, "max_retries": 0, **options})
    return source.collect(TENANT, Record(environment=Environment.STAGE, secret_key=secret(key)))


def peak_bytes_of(read: Any) -> tuple[Any, int]:
    """What ``read()`` returns and the most memory Python held meanwhile, above what it held before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = read()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# --- a total deadline per request ----------------------------------------------------------------


@pytest.mark.parametrize("fault", ["trickle", "trickle_headers"])
def test_the_records_deadline_ends_a_trickling_answer_whatever_the_timeout(fault) -> None:
    """A byte every 20 ms never trips a socket timeout; the record's deadline (1.5 s) must still hold."""
    with StubStripe(world({fault: ["/v1/webhook_endpoints"]})) as stub:
        ev = collect(stub, timeout=300.0, record_deadline=1.5, max_retries=5)
    assert ev.account is not None  # read before the stall: kept
    assert ev.webhook_endpoints_error.kind is ErrorKind.TIMEOUT
    assert "the answer was not complete within" in ev.webhook_endpoints_error.message
    assert ev.failed_events_error.kind is ErrorKind.TIMEOUT  # not asked: the record's time is up


# --- a size cap per answer, after inflating --------------------------------------------------------


def test_a_gzip_bomb_costs_at_most_the_cap() -> None:
    """50 MB of zeros arrive as 50 KB of gzip; reading them may hold no more than the 256 KB cap (and change)."""
    size = 50 << 20
    _zeros_gzipped(size)  # the stub compresses before measuring: its cost is not the client's
    with StubStripe(world({"gzip_bomb": {"/v1/webhook_endpoints": size}})) as stub:
        assert collect(stub, WARM).errors() == []
        ev, peak = peak_bytes_of(lambda: collect(stub, max_answer_bytes=256 << 10))
    assert ev.webhook_endpoints_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.webhook_endpoints_error.message == "the answer is larger than 256 KB"
    assert ev.account is not None and ev.failed_events == []  # the record's other reads still happened
    assert peak < 4 << 20, f"{peak / 2**20:.1f} MB held while refusing a bomb capped at 256 KB"


def test_an_endless_answer_without_a_length_stops_at_the_cap() -> None:
    size = 64 << 20
    with StubStripe(world({"oversize": {"/v1/account": size}})) as stub:
        assert collect(stub, WARM).errors() == []
        ev, peak = peak_bytes_of(lambda: collect(stub, max_answer_bytes=1 << 20))
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.account_error.message == "the answer is larger than 1 MB"
    assert ev.webhook_endpoints is not None
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MB held while refusing a 64 MB answer capped at 1 MB"


def test_an_announced_length_over_the_cap_is_refused_before_reading() -> None:
    account = make_account("acct_1AbCdEfGhIjKlMnO", name="x" * (2 << 20))
    with StubStripe(world(account=account)) as stub:
        ev = collect(stub, max_answer_bytes=1 << 20)
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.account_error.message.startswith("the answer is larger than 1 MB (")


# --- keys go only where they should ------------------------------------------------------------------


class _Proxy(ThreadingHTTPServer):
    """A forward proxy on loopback that records what reached it and forwards nothing."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                self.seen.append((handler.requestline, handler.headers.get("Authorization", "")))
                handler.send_error(502)

            do_CONNECT = do_GET

            def log_message(handler, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def test_plain_http_in_capitals_never_goes_through_a_proxy(tmp_path, capsys, monkeypatch) -> None:
    """``HTTP://127.0.0.1`` is plain http: the key must go straight to loopback, never via HTTP_PROXY."""
    config, stub_world, _ = build_fleet(tmp_path / "fleet", tenants=2)
    proxy = _Proxy()
    threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy_url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    try:
        with StubStripe(stub_world) as stub:
            code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base",
                         stub.url.replace("http://", "HTTP://") + "/", "--format", "json", "--output", str(tmp_path),
                         "--retries", "0", "--quiet"])
            straight = len([r for r in stub.requests if r[1] != "/v1"])  # the keyless reachability probe aside
    finally:
        proxy.shutdown()
        proxy.server_close()
    capsys.readouterr()
    assert proxy.seen == [], "a request went through the proxy"
    assert code == 0 and straight == 4 * 3
    records = json.loads((tmp_path / "results.json").read_text())["records"]
    assert {r["evidence"]["api_base"] for r in records} == {stub.url}  # the parsed, normalised form


@pytest.mark.parametrize(("given", "normalised"), [
    ("HTTP://127.0.0.1:12111/", "http://127.0.0.1:12111"), ("HtTpS://API.Stripe.COM", "https://api.stripe.com"),
    ("http://LOCALHOST:1/v1proxy/", "http://localhost:1/v1proxy")])
def test_the_api_base_is_parsed_once_and_normalised(given, normalised) -> None:
    assert validate_api_base(given) == normalised


def test_a_redirect_is_an_error_and_the_key_never_follows_it() -> None:
    """Stripe never redirects: the target's 401 must not be reported as "Stripe rejected the key"."""
    with StubStripe({}) as target:
        with StubStripe(world({"redirect": {"/v1/account": f"{target.url}/v1/account"}})) as stub:
            ev = collect(stub)
            asked = [path for _, path, _ in stub.requests]
        assert target.requests == [], "the redirect was followed"
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.account_error.message.startswith("Stripe answered with a redirect (HTTP 302) to 127.0.0.1;")
    assert asked.count("/v1/account") == 1 and ev.webhook_endpoints is not None


# --- answers that are well-formed HTTP but not a Stripe list or object ----------------------------------


def test_a_list_whose_cursor_never_advances_is_an_error() -> None:
    """The stub ignores ``starting_after``: page one again and again, ``has_more`` always true."""
    endpoints = [make_endpoint(f"we_{i:03d}", f"https://x.test/{i}", ["*"]) for i in range(150)]
    with StubStripe(world({"stuck_cursor": ["/v1/webhook_endpoints"]}, webhook_endpoints=endpoints)) as stub:
        ev = collect(stub)
        pages = [path for _, path, _ in stub.requests if path.startswith("/v1/webhook_endpoints")]
    assert ev.webhook_endpoints is None and ev.webhook_endpoints_error.kind is ErrorKind.INVALID_RESPONSE
    assert "the list does not advance" in ev.webhook_endpoints_error.message
    assert len(pages) == 2


def _with(part: str, **fields: Any) -> dict[str, Any]:
    base = {"account": make_account("acct_1AbCdEfGhIjKlMnO"),
            "webhook_endpoints": make_endpoint("we_1", "https://x.test", ["*"]),
            "events": make_event("evt_1", "charge.dispute.created", 4_000_000_000)}[part]
    return {**base, **fields}


@pytest.mark.parametrize(("part", "broken", "words"), [
    ("webhook_endpoints", {"enabled_events": "charge.dispute.created"},
     "the field enabled_events is a string, not a list of strings or null"),
    ("webhook_endpoints", {"url": ["https://x.test"]}, "the field url is a list, not a string"),
    ("events", {"livemode": "false"}, "the field livemode is a string, not true or false or null"),
    ("events", {"pending_webhooks": True}, "the field pending_webhooks is a boolean, not an integer or null"),
    ("account", {"charges_enabled": "true"}, "the field charges_enabled is a string, not true or false or null"),
    ("account", {"requirements": {"currently_due": "external_account"}},
     "the field requirements.currently_due is a string, not a list of strings or null"),
])
def test_a_field_of_the_wrong_type_is_an_unreadable_answer_not_a_reshaped_one(part, broken, words) -> None:
    value = _with(part, **broken)
    with StubStripe(world(**{part: value if part == "account" else [value]})) as stub:
        ev = collect(stub)
    error = ev.error_for("failed_events" if part == "events" else part)
    assert error is not None and error.kind is ErrorKind.INVALID_RESPONSE
    assert error.message == words
    assert len(ev.errors()) == 1  # only that read: the record's other answers are kept
