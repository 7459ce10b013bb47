"""A Stripe-compatible stub server on loopback, for tests, the samples and the benchmark.

It serves the three reads the auditor makes (``/v1/account``,
``/v1/webhook_endpoints``, ``/v1/events``) from a *world*: secret key →
account, endpoints, events and optional faults. Payloads follow the shapes of
Stripe's published objects. Any method but GET is answered 405 and recorded,
so tests can prove none arrived.

    with StubStripe(world, latency=0.1) as stub:
        audit run --stripe-api-base {stub.url}

Run it alone: ``python -m tests.stub_stripe --world world.json --port 12111``.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2025-09-30.clover"


def make_account(account_id: str, *, charges: bool = True, payouts: bool = True, details: bool = True,
                 country: str = "DE", name: str | None = None, due: list[str] | None = None,
                 disabled_reason: str | None = None) -> dict[str, Any]:
    """A Stripe ``account`` object (the fields the auditor reads, plus the usual neighbours)."""
    return {
        "id": account_id, "object": "account", "business_type": "company",
        "business_profile": {"name": name, "url": None, "support_email": None, "mcc": "5968"},
        "capabilities": {"card_payments": "active" if charges else "inactive",
                         "transfers": "active" if payouts else "inactive"},
        "charges_enabled": charges, "payouts_enabled": payouts, "details_submitted": details,
        "country": country, "created": 1700000000, "default_currency": "eur", "email": None,
        "requirements": {"currently_due": due or [], "eventually_due": due or [], "past_due": [],
                         "disabled_reason": disabled_reason, "current_deadline": None, "errors": []},
        "settings": {"dashboard": {"display_name": name, "timezone": "Europe/Berlin"}},
        "type": "standard", "metadata": {},
    }


def make_endpoint(endpoint_id: str, url: str, events: list[str], *, status: str = "enabled", livemode: bool = False,
                  description: str | None = None, created: int = 1700000000) -> dict[str, Any]:
    """A Stripe ``webhook_endpoint`` object as listed (Stripe never lists its ``secret``)."""
    return {
        "id": endpoint_id, "object": "webhook_endpoint", "api_version": None, "application": None,
        "created": created, "description": description, "enabled_events": events, "livemode": livemode,
        "metadata": {}, "status": status, "url": url,
    }


def make_event(event_id: str, event_type: str, created: int, *, pending_webhooks: int = 1,
               livemode: bool = False) -> dict[str, Any]:
    """A Stripe ``event`` object whose delivery is still pending or failed."""
    return {
        "id": event_id, "object": "event", "api_version": API_VERSION, "created": created,
        "data": {"object": {"id": "pi_" + event_id[4:], "object": "payment_intent"}},
        "livemode": livemode, "pending_webhooks": pending_webhooks,
        "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }


def _error_body(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": code, "doc_url": None}}


def _mask_key(key: str) -> str:
    return (key[:8] + "*" * 4 + key[-4:]) if len(key) > 12 else "****"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK stall every keep-alive response by ~40 ms (measured: 134 ms a record).
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:  # quiet: the benchmark makes thousands of requests
        pass

    def do_GET(self) -> None:
        self.server.stub._handle(self)

    def _refuse(self) -> None:
        self.server.stub._record(self.command, self.path, self._key())
        self._send(405, _error_body(f"method {self.command} is not allowed by the stub"))

    do_POST = do_DELETE = do_PUT = do_PATCH = _refuse

    def _key(self) -> str:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else ""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None,
              length: int | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length if length is not None else len(data)))
        self.send_header("Request-Id", f"req_stub{self.server.stub._counter:08d}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        if length is not None:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    stub: StubStripe

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, Ctrl-C) is normal here; anything else is reported."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class StubStripe:
    """The stub server. ``world``: secret key → {account, webhook_endpoints, events, faults}.

    Faults (per key): ``{"/v1/account": [429, 429]}`` answers those statuses first, then normally;
    ``{"status_forever": {"/v1/events": 500}}``; ``{"hang": ["/v1/account"]}`` never answers;
    ``{"malformed": [path]}`` answers 200 with a body that is not JSON; ``{"truncated": [path]}``
    promises more bytes than it sends; ``{"headers": {"Retry-After": "0"}}`` adds headers to faults.

    Hostile answers (each keyed by path): ``{"trickle": [path]}`` sends the headers, then the body one
    byte at a time, and ``{"trickle_headers": [path]}`` the headers one byte at a time, until the
    client hangs up; ``{"gzip_bomb": {path: n}}`` answers n zero bytes gzip-compressed;
    ``{"oversize": {path: n}}`` an n-byte answer without Content-Length; ``{"redirect": {path: url}}``
    a 302 to url; ``{"stuck_cursor": [path]}`` the first list page again and again with ``has_more``.
    """

    TRICKLE_INTERVAL = 0.02  # seconds between two bytes: far below any read timeout a test sets
    TRICKLE_GIVE_UP = 120.0  # a client that never hangs up fails its test instead of hanging it

    def __init__(self, world: dict[str, dict[str, Any]], latency: float = 0.0, host: str = "127.0.0.1",
                 port: int = 0):
        self.world = world
        self.latency = latency
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._fault_progress: dict[tuple[str, str], int] = {}
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.stub = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StubStripe:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubStripe:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def methods_seen(self) -> set[str]:
        with self._lock:
            return {method for method, _, _ in self.requests}

    # --- request handling --------------------------------------------------

    def _record(self, method: str, path: str, key: str) -> None:
        with self._lock:
            self._counter += 1
            self.requests.append((method, path, _mask_key(key)))

    def _handle(self, h: _Handler) -> None:
        key = h._key()
        self._record("GET", h.path, key)
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(h.path)
        entry = self.world.get(key)
        if entry is None:
            h._send(401, _error_body(f"Invalid API Key provided: {_mask_key(key)}"))
            return
        if self._fault(h, parts.path, key, entry.get("faults") or {}):
            return
        raw = parse_qs(parts.query)
        query = {k: v[-1] for k, v in raw.items()}
        types = [t for k, v in raw.items() if k == "types[]" or re.fullmatch(r"types\[\d+\]", k) for t in v]
        if parts.path == "/v1/account":
            h._send(200, entry["account"])
        elif parts.path == "/v1/webhook_endpoints":
            if parts.path in ((entry.get("faults") or {}).get("stuck_cursor") or []):
                query.pop("starting_after", None)  # the cursor is ignored: the same page again and again
            h._send(200, _page(entry.get("webhook_endpoints", []), query, parts.path))
        elif parts.path == "/v1/events":
            h._send(200, _page(_failed_events(entry.get("events", []), query, types), query, parts.path))
        else:
            h._send(404, _error_body(f"Unrecognized request URL (GET: {parts.path})"))

    def _fault(self, h: _Handler, path: str, key: str, faults: dict[str, Any]) -> bool:
        """Answer with an injected fault when one applies; True if it did."""
        extra = faults.get("headers") or {}
        if path in (faults.get("hang") or []):
            self._stopping.wait(600)
            h.close_connection = True
            return True
        if path in (faults.get("drop") or []):  # close the connection without a word
            h.close_connection = True
            return True
        forever = (faults.get("status_forever") or {}).get(path)
        if forever:
            message = (faults.get("messages") or {}).get(path, "stub fault")
            kind = "invalid_request_error" if forever in (400, 401, 403, 404) else "api_error"
            h._send(forever, _error_body(message, kind), extra)
            return True
        sequence = faults.get(path) or []
        with self._lock:
            done = self._fault_progress.get((key, path), 0)
            if done < len(sequence):
                self._fault_progress[(key, path)] = done + 1
        if done < len(sequence):
            status = sequence[done]
            kind = "rate_limit_error" if status == 429 else "api_error"
            h._send(status, _error_body(f"stub fault {status}", kind), extra)
            return True
        if path in (faults.get("malformed") or []):
            h._send(200, None, raw=b"{not json")
            return True
        if path in (faults.get("truncated") or []):
            h._send(200, None, raw=b'{"id": "acct_1', length=500)
            return True
        return self._hostile(h, path, faults)

    def _hostile(self, h: _Handler, path: str, faults: dict[str, Any]) -> bool:
        """Answers that try to exhaust the client's time or memory; True if one applied."""
        if path in (faults.get("trickle") or []):
            h._send(200, None, raw=b"", length=100_000)  # under any size cap: only time can stop it
            self._trickle(h, b"{" + b" " * 100_000)
        elif path in (faults.get("trickle_headers") or []):
            h.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._trickle(h, b"X-Slow: " + b"a" * 10_000_000)
        elif path in (faults.get("gzip_bomb") or {}):
            h._send(200, None, {"Content-Encoding": "gzip"}, raw=_zeros_gzipped(faults["gzip_bomb"][path]))
        elif path in (faults.get("oversize") or {}):
            self._oversize(h, faults["oversize"][path])
        elif path in (faults.get("redirect") or {}):
            h._send(302, _error_body("moved"), {"Location": faults["redirect"][path]})
        elif path in (faults.get("stuck_cursor") or []):
            return False  # answered by _page_for with the first page forever
        else:
            return False
        h.close_connection = True
        return True

    def _trickle(self, h: _Handler, data: bytes) -> None:
        """Send ``data`` one byte at a time until the client hangs up (or the stub stops)."""
        give_up = time.monotonic() + self.TRICKLE_GIVE_UP
        for i in range(len(data)):
            if self._stopping.wait(self.TRICKLE_INTERVAL) or time.monotonic() > give_up:
                return
            try:
                h.wfile.write(data[i:i + 1])
                h.wfile.flush()
            except OSError:
                return  # the client hung up: what a deadline should make it do

    @staticmethod
    def _oversize(h: _Handler, size: int) -> None:
        """A 200 whose length is known only at the end (no Content-Length: read until close)."""
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Connection", "close")
        h.end_headers()
        chunk = b" " * 65536
        try:
            h.wfile.write(b'{"id": "acct_1", "pad": "')
            for _ in range(size // len(chunk)):
                h.wfile.write(chunk)
            h.wfile.write(b'"}')
        except OSError:
            pass  # the client stopped reading at its size limit


_GZIPPED: dict[int, bytes] = {}


def _zeros_gzipped(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (50 MB become about 50 KB): a decompression bomb."""
    if size not in _GZIPPED:
        gzipper = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
        block, rest = bytes(1 << 20), bytes(size % (1 << 20))
        parts = [gzipper.compress(block) for _ in range(size >> 20)]
        _GZIPPED[size] = b"".join(parts + [gzipper.compress(rest), gzipper.flush()])
    return _GZIPPED[size]


def _failed_events(events: list[dict[str, Any]], query: dict[str, str],
                   types: list[str] | None = None) -> list[dict[str, Any]]:
    """What ``GET /v1/events?delivery_success=false&types[]=…&created[gte]=…`` returns: newest first."""
    since = int(query.get("created[gte]", "0") or 0)
    wanted = [e for e in events if e["created"] >= since and (not types or e["type"] in types)]
    if query.get("delivery_success") == "false":
        wanted = [e for e in wanted if e.get("pending_webhooks", 0) > 0]
    return sorted(wanted, key=lambda e: -e["created"])


def _page(items: list[dict[str, Any]], query: dict[str, str], url: str) -> dict[str, Any]:
    """A Stripe list object: ``limit`` (default 10, at most 100) items after ``starting_after``."""
    limit = max(1, min(100, int(query.get("limit", "10") or 10)))
    start = 0
    after = query.get("starting_after")
    if after:
        ids = [i["id"] for i in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    data = items[start:start + limit]
    return {"object": "list", "data": data, "has_more": start + limit < len(items), "url": url}


def _lean_request_headers() -> None:
    """In the stub's own process: request headers read without the e-mail parser, for plain header blocks.

    The stub stands for Stripe, whose CPU is not the auditor's; in the benchmark it shares the two cores
    with the auditor, and http.server's e-mail parser was a large part of its cost per request. The
    messages are the same (auditor.collect.headers, compared with the parser in tests/collect/test_headers.py).
    Only here, never in a test's process, where the auditor under test runs beside the stub.
    """
    import http.client

    from auditor.collect.headers import read_header_block

    standard = http.client.parse_headers

    def parse_headers(fp: Any, _class: Any = http.client.HTTPMessage) -> Any:
        return read_header_block(fp) if _class is http.client.HTTPMessage else standard(fp, _class)

    http.client.parse_headers = parse_headers  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", required=True, help="JSON file: secret key -> account, endpoints, events")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    with open(args.world, encoding="utf-8") as handle:
        world = json.load(handle)
    _lean_request_headers()
    stub = StubStripe(world, latency=args.latency, port=args.port).start()
    print(f"stub Stripe on {stub.url} (Ctrl-C stops it)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stub.stop()


if __name__ == "__main__":
    main()
