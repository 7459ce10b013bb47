"""Review of the read-only client's quick GET: the same bytes on the wire and the same outcome as before.

``ReadOnlyHttpClient._exchange`` used to send every GET through
``requests.Session.request``; it now prepares the request itself and hands it
to the session's adapter. ``_Before`` below is the client as it was (the
Session.request call of commit 8d2cce0, over connections that read answers with
CPython's own ``HTTPResponse.begin``): both are sent the same requests to a
loopback server written on raw sockets, which records each request's bytes and
answers with bytes of its own choosing, and must send the same bytes and give
the same answer or the same error. The one intended difference: no cookie an
answer sets is ever sent back (another tenant's key would carry it).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from auditor.collect import limits, readonly
from auditor.collect.limits import AnswerRefused, AnswerTooSlow, DeadlineAdapter, read_body, set_deadline
from auditor.collect.readonly import ReadOnlyHttpClient, _redirect_message, _utf8
from auditor.collect.stripe_api import StripeSource
from auditor.config import Environment, Record, Tenant
from tests.rules.builders import secret
from tests.stub_stripe import make_account, make_endpoint

HANG_GUARD = 60.0  # seconds a socket waits before a test fails instead of hanging; never reached when it passes
KEY = "sk_test_51AbCdEfGhIjKlMnO" + "R" * 30


# --- the client as it was ----------------------------------------------------------------------------


class _StockResponse(limits._DeadlineResponse):
    begin = http.client.HTTPResponse.begin  # the deadline reader, with CPython's own header parsing


class _StockHTTP(HTTPConnection):
    response_class = _StockResponse


class _StockHTTPS(HTTPSConnection):
    response_class = _StockResponse


class _StockHTTPPool(HTTPConnectionPool):
    ConnectionCls = _StockHTTP


class _StockHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _StockHTTPS


for _stock, _named in ((_StockHTTP, "_HTTPConnection"), (_StockHTTPS, "_HTTPSConnection"),
                       (_StockHTTPPool, "_HTTPPool"), (_StockHTTPSPool, "_HTTPSPool")):
    _stock.__name__ = _stock.__qualname__ = _named  # error messages name the class: the same text for both


_STOCK_POOLS = {"http": _StockHTTPPool, "https": _StockHTTPSPool}


class _StockAdapter(DeadlineAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_STOCK_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = dict(_STOCK_POOLS)
        return manager


class _Before(ReadOnlyHttpClient):
    """The read-only client of commit 8d2cce0: each GET through ``Session.request``."""

    def _ensure_session(self) -> None:
        if getattr(self._thread_local, "session", None) is None:
            super()._ensure_session()
            for prefix in ("http://", "https://"):
                self._thread_local.session.mount(prefix, _StockAdapter())

    def _exchange(self, method: str, url: str, headers: Mapping[str, str] | None,
                  post_data: Any) -> tuple[bytes, int, Mapping[str, str]]:
        import time

        start = time.monotonic()
        deadline = min(start + self._total, getattr(self._caps, "at", None) or float("inf"))
        set_deadline(deadline)
        try:
            left = max(deadline - start, 0.001)
            response = self._thread_local.session.request(
                method, url, headers=headers, data=post_data, stream=True, allow_redirects=False,
                timeout=(min(self._connect, left), min(self._total, left)), proxies=self._proxy or {},
                verify=stripe.ca_bundle_path if self._verify_ssl_certs else False)
            with response:
                if 300 <= response.status_code < 400:
                    raise AnswerRefused(_redirect_message(response, url))
                return _utf8(read_body(response, self.max_answer_bytes)), response.status_code, response.headers
        except requests.exceptions.Timeout as exc:
            if time.monotonic() >= deadline - readonly._CLOCK_SLACK:
                raise AnswerTooSlow(f"the answer was not complete within {deadline - start:.3g} s") from exc
            raise
        finally:
            set_deadline(None)


# --- a server on raw sockets ---------------------------------------------------------------------------


class _Wire:
    """Loopback: records each request's bytes, answers with ``answer(request)``'s bytes, then closes."""

    def __init__(self, answer: bytes | Callable[[bytes], bytes], tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer if callable(answer) else (lambda _request: answer)
        self.requests: list[bytes] = []
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(HANG_GUARD)
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                piece = conn.recv(65536)
                if not piece:
                    break
                data += piece
            with self._lock:
                self.requests.append(data)
            if data:
                conn.sendall(self.answer(data))
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept at once (Linux), else its timeout does
        except OSError:
            pass
        self._thread.join(HANG_GUARD)
        self._listener.close()


@contextmanager
def wire(answer: bytes | Callable[[bytes], bytes], tls: ssl.SSLContext | None = None) -> Iterator[_Wire]:
    server = _Wire(answer, tls)
    try:
        yield server
    finally:
        server.close()


def _normal(text: str) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x…", text)


def _outcome(client: ReadOnlyHttpClient, url: str, headers: Mapping[str, str] | None) -> Any:
    try:
        body, status, got = client.request("get", url, headers)
    except Exception as exc:
        cause = exc.__cause__ or exc.__context__
        return "raised", type(exc).__name__, _normal(str(exc)), type(cause).__name__ if cause else None
    return "answered", status, body, list(got.items())


def _both(url: str, headers: Mapping[str, str] | None, answer: bytes | Callable[[bytes], bytes] = b"",
          **client: Any) -> tuple[Any, Any, list[bytes], list[bytes]]:
    """The new client's and the old one's outcome and requests, one after the other against one server."""
    results = []
    with wire(answer) as server:
        for kind in (ReadOnlyHttpClient, _Before):
            before = len(server.requests)
            outcome = _outcome(kind(**{"timeout": (HANG_GUARD, HANG_GUARD), **client}),
                               url.replace("PORT", str(server.port)), headers)
            results.append((outcome, server.requests[before:]))
    (new, new_sent), (old, old_sent) = results
    return new, old, new_sent, old_sent


SDK_HEADERS = {
    "X-Stripe-Client-User-Agent": json.dumps({"bindings_version": "16.1.0", "lang": "python", "httplib": "requests"}),
    "User-Agent": "Stripe/v1 PythonBindings/16.1.0",
    "Authorization": f"Bearer {KEY}",
    "Stripe-Version": "2026-10-28.endive",
}

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


_BOMB = _gzip(b"\0" * (3 * 2**20))
ANSWERS = {
    "json": _OK,
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "chunked and a length": b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"2\r\n{}\r\n0\r\n\r\n",
    "bad chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "cut chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{}",
    "short body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
    "no length, 1.0": b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\": 1}",
    "gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(_gzip(b'{"a":1}'))
            + _gzip(b'{"a":1}'),
    "gzip bomb": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(_BOMB) + _BOMB,
    "oversized": b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (2**20 + 1),
    "announced oversize": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n{}",
    "brotli": b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}",
    "corrupt gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd",
    "redirect": b"HTTP/1.1 302 Found\r\nLocation: https://evil.example/steal\r\nContent-Length: 0\r\n\r\n",
    "redirect with a body": b"HTTP/1.1 301 Moved\r\nLocation: /elsewhere\r\n\r\n" + b"x" * 5000,
    "redirect, no location": b"HTTP/1.1 307 Temporary\r\nContent-Length: 0\r\n\r\n",
    "not modified": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "no content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "continue first": b"HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    "folded header": b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}",
    "bare LF": b"HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\n{}",
    "bare CR": b"HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 2\r\n\r\n{}",
    "no colon": b"HTTP/1.1 200 OK\r\nthis is no header\r\nContent-Length: 2\r\n\r\n{}",
    "empty name": b"HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 2\r\n\r\n{}",
    "duplicates": b"HTTP/1.1 200 OK\r\nX-Dup: 1\r\nx-dup: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                  b"Content-Length: 2\r\n\r\n{}",
    "obs-text": b"HTTP/1.1 200 OK\r\nX-Obs: \xe9\xff\x80\r\nContent-Length: 2\r\n\r\n{}",
    "multipart": b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\nContent-Length: 2\r\n\r\n{}",
    "message/rfc822": b"HTTP/1.1 200 OK\r\nContent-Type: message/rfc822\r\nContent-Length: 2\r\n\r\n{}",
    "101 headers": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n{}",
    "long line": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n{}",
    "bad status": b"HTTQ/1.1 200 OK\r\n\r\n",
    "HTTP/2": b"HTTP/2 200 OK\r\n\r\n",
    "nothing": b"",
    "latin-1 body": b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\n\xe9t\xe9!",
    "keep-alive 1.0": b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}",
}


@pytest.mark.parametrize("name", list(ANSWERS))
def test_every_answer_gives_what_session_request_gave(name: str) -> None:
    client = {"max_answer_bytes": 2**20}
    new, old, new_sent, old_sent = _both("http://127.0.0.1:PORT/v1/account", SDK_HEADERS, ANSWERS[name], **client)
    assert new == old
    assert new_sent == old_sent and len(new_sent) == 1


URLS = [
    "http://127.0.0.1:PORT/v1/account",
    "http://127.0.0.1:PORT/v1/webhook_endpoints?limit=100&starting_after=we_1",
    "http://127.0.0.1:PORT/v1/events?limit=100&delivery_success=false&types[0]=account.updated&created[gte]=1",
    "http://127.0.0.1:PORT/v1/events?limit=100&types%5B0%5D=a&created%5Bgte%5D=1",
    "http://127.0.0.1:PORT/v1/webhook_endpoints?starting_after=we_%C3%BC%20%23x%25",
    "http://127.0.0.1:PORT/v1/webhook_endpoints?starting_after=we_ü x#frag",
    "http://127.0.0.1:PORT/pre%20fix/v1/account",
    "http://127.0.0.1:PORT/prefix/ü/€/v1/account",
    "http://127.0.0.1:PORT/a;b=c/v1/account",
    "http://127.0.0.1:PORT/a/../b/./v1/account",
    "http://127.0.0.1:PORT//v1//account",
    "http://127.0.0.1:PORT/%zz/%7e/%7E/v1",
    "http://127.0.0.1:PORT/v1/account?",
    "http://127.0.0.1:PORT",
    "HTTP://127.0.0.1:PORT/v1/account",
    "http://localhost:PORT/v1/account",
    "http://LOCALHOST:PORT/V1/Account",
    "http://[::ffff:127.0.0.1]:PORT/v1/account",
    "http://127.0.0.1:PORT/v1/account?x=[]{}|^`\"<>",
    "http://127.0.0.1:PORT/\x7f/v1",
]


@pytest.mark.parametrize("url", URLS)
def test_every_url_is_sent_as_session_request_sent_it(url: str) -> None:
    new, old, new_sent, old_sent = _both(url, SDK_HEADERS, _OK)
    assert new == old
    assert new_sent == old_sent


HEADERS = [
    None,
    {},
    {"user-agent": "lower-case name", "accept-encoding": "identity", "CONNECTION": "close"},
    {"Accept": "application/json", "Accept-Encoding": "gzip"},
    {"Authorization": "Bearer sk_test_\"'<>&;,=x"},
    {"Authorization": " Bearer leading space"},
    {"Authorization": "Bearer trailing\n"},
    {"Authorization": "Bearer a\r\nX-Injected: 1"},
    {"X-Bad Name": "v"},
    {"X-Latin": "caf\xe9"},
    {"X-Wide": "€"},
    {"Host": "evil.example", "Content-Length": "5"},
    {"Cookie": "a=b"},
    {"X-Number": 5},
    {"X-Bytes": b"bytes"},
    {b"X-Bytes-Name": "v"},
    {"X-Empty": ""},
]


@pytest.mark.parametrize("headers", HEADERS, ids=[repr(h)[:40] for h in HEADERS])
def test_every_header_set_is_sent_or_refused_as_session_request_did(headers: Any) -> None:
    new, old, new_sent, old_sent = _both("http://127.0.0.1:PORT/v1/account", headers, _OK)
    assert new == old
    assert new_sent == old_sent


def test_the_session_headers_lie_under_the_sdks_in_the_same_order() -> None:
    _, _, sent, _ = _both("http://127.0.0.1:PORT/v1/account", {"user-agent": "mine", "X-A": "1"}, _OK)
    lines = sent[0].split(b"\r\n")
    assert lines[0] == b"GET /v1/account HTTP/1.1"
    names = [line.split(b":")[0] for line in lines[1:] if line]
    assert names == [b"Host", b"user-agent", b"Accept-Encoding", b"Accept", b"Connection", b"X-A"]


def test_an_answers_cookie_is_never_sent_again(monkeypatch) -> None:
    """The one intended difference: Session.request carried an answer's cookie to the next request (of any
    tenant: the session is the thread's); the quick path sends no cookie at all."""
    answer = (b"HTTP/1.1 200 OK\r\nSet-Cookie: tenant=secret-of-the-first; Path=/\r\nConnection: close\r\n"
              b"Content-Length: 2\r\n\r\n{}")
    sent = {}
    for kind in (ReadOnlyHttpClient, _Before):
        with wire(answer) as server:
            client = kind(timeout=(HANG_GUARD, HANG_GUARD))
            for n in range(2):
                assert client.request("get", f"{server.url}/v1/account?n={n}", SDK_HEADERS)[1] == 200
            sent[kind] = server.requests
    assert all(b"Cookie" not in request for request in sent[ReadOnlyHttpClient])
    assert b"Cookie: tenant=secret-of-the-first" in sent[_Before][1]  # what the old client did


def test_a_server_that_never_answers_is_too_slow_for_both() -> None:
    """No wall clock judged: both wait out the same (short) deadline and say so alike."""
    hold = threading.Event()

    def never(_request: bytes) -> bytes:
        hold.wait(HANG_GUARD)
        return b""

    try:
        new, old, _, _ = _both("http://127.0.0.1:PORT/v1/account", SDK_HEADERS, never, timeout=(5.0, 0.3))
    finally:
        hold.set()
    assert new[:2] == old[:2] == ("raised", "APIConnectionError")
    assert "not complete within 0.3 s" in new[2] and "not complete within 0.3 s" in old[2]


def test_nothing_listening_is_the_same_connection_error() -> None:
    with wire(b"") as server:
        port = server.port
    new = _outcome(ReadOnlyHttpClient(), f"http://127.0.0.1:{port}/v1/account", SDK_HEADERS)
    old = _outcome(_Before(), f"http://127.0.0.1:{port}/v1/account", SDK_HEADERS)
    assert new == old and new[:2] == ("raised", "APIConnectionError")


# --- proxies and TLS ---------------------------------------------------------------------------------

_PROXY_ANSWER = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"


def _proxy_env(monkeypatch: pytest.MonkeyPatch, proxy: str | None, no_proxy: str | None = None) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                 "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        for name in ("HTTPS_PROXY", "HTTP_PROXY"):
            monkeypatch.setenv(name, proxy)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)


def test_https_goes_through_the_proxy_with_the_same_connect(monkeypatch) -> None:
    """The key never reaches the proxy in clear: both send CONNECT (with the proxy's credentials) only."""
    seen = {}
    with wire(_PROXY_ANSWER) as proxy:
        _proxy_env(monkeypatch, f"http://user:p%40ss@127.0.0.1:{proxy.port}")
        for kind in (ReadOnlyHttpClient, _Before):
            before = len(proxy.requests)
            client = kind(api_base="https://api.stripe.test", timeout=(HANG_GUARD, HANG_GUARD))
            seen[kind] = _outcome(client, "https://api.stripe.test/v1/account", SDK_HEADERS), proxy.requests[before:]
    assert seen[ReadOnlyHttpClient] == seen[_Before]
    (outcome, requests_seen) = seen[ReadOnlyHttpClient]
    assert outcome[:2] == ("raised", "APIConnectionError") and len(requests_seen) == 1
    assert requests_seen[0].startswith(b"CONNECT api.stripe.test:443 HTTP/1.0\r\n")
    assert b"Proxy-Authorization: Basic dXNlcjpwQHNz" in requests_seen[0] and KEY.encode() not in requests_seen[0]


@pytest.mark.parametrize("no_proxy", ["localhost", "*", ".localhost,other", None])
def test_plain_http_and_no_proxy_go_straight_as_before(monkeypatch, no_proxy) -> None:
    with wire(_PROXY_ANSWER) as proxy:
        _proxy_env(monkeypatch, f"http://127.0.0.1:{proxy.port}", no_proxy)
        new, old, new_sent, old_sent = _both("http://localhost:PORT/v1/account", SDK_HEADERS, _OK,
                                             api_base="http://localhost:1")
        assert proxy.requests == []
    assert new == old and new[:2] == ("answered", 200) and new_sent == old_sent


# A self-signed certificate for localhost (valid 2026-2126), made with:
# openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost -addext subjectAltName=DNS:localhost
CERT_AND_KEY = Path(__file__).with_name("review_localhost.pem")


def _tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT_AND_KEY)
    return context


@pytest.mark.parametrize(("trust", "host", "verify"), [
    ("stripe", "localhost", True), ("ours", "localhost", True), ("ours", "127.0.0.1", True),
    ("stripe", "localhost", False)])
def test_tls_is_verified_as_before(monkeypatch, trust, host, verify) -> None:
    """Against Stripe's own CA bundle a self-signed server is refused; trusted, it answers; the wrong name is
    refused; with verification off (never in the auditor) it answers: in each case alike for both clients."""
    _proxy_env(monkeypatch, None)
    if trust == "ours":
        monkeypatch.setattr(stripe, "ca_bundle_path", str(CERT_AND_KEY))
    seen = []
    with wire(_OK, tls=_tls()) as server:
        for kind in (ReadOnlyHttpClient, _Before):
            client = kind(api_base=f"https://{host}:{server.port}", timeout=(HANG_GUARD, HANG_GUARD),
                          verify_ssl_certs=verify)
            seen.append(_outcome(client, f"https://{host}:{server.port}/v1/account", SDK_HEADERS))
    assert seen[0] == seen[1]
    answered = seen[0][0] == "answered"
    assert answered is ((trust == "ours" and host == "localhost") or not verify), seen[0]


# --- the responses library ---------------------------------------------------------------------------


def test_the_responses_library_sees_the_same_request() -> None:
    seen = []
    for kind in (ReadOnlyHttpClient, _Before):
        with responses.RequestsMock() as mock:
            mock.get("https://api.stripe.com/v1/events", json={"object": "list", "data": []},
                     headers={"Request-Id": "req_1"})
            body, status, headers = kind().request(
                "get", "https://api.stripe.com/v1/events?types[0]=a&created[gte]=1", SDK_HEADERS)
            call = mock.calls[0].request
            seen.append((body, status, dict(headers), call.method, call.url, dict(call.headers), call.body))
    assert seen[0] == seen[1]


# --- a whole record through the real StripeSource ----------------------------------------------------


def _stripe_like(request: bytes) -> bytes:
    path = request.split(b" ")[1].decode()
    if "/v1/account" in path:
        body: dict[str, Any] = make_account("acct_1AbCdEfGhIjKlMnO", name="Acme")
    elif "/v1/webhook_endpoints" in path:
        after = "starting_after=" in path
        body = {"object": "list", "has_more": not after, "url": "/v1/webhook_endpoints", "data": [
            make_endpoint("we_2" if after else "we_1 é&#?", "https://x.test/é", ["*"])]}
    else:
        body = {"object": "list", "has_more": False, "url": "/v1/events", "data": []}
    data = json.dumps(body).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Odd: \xe9\r\nContent-Length: %d\r\n" % len(data)
    return head + b"Set-Cookie: s=1\r\nConnection: close\r\n\r\n" + data


def test_a_records_reads_send_and_give_what_they_did(monkeypatch) -> None:
    _proxy_env(monkeypatch, None)
    seen = []
    with wire(_stripe_like) as server:
        for kind in (ReadOnlyHttpClient, _Before):
            before = len(server.requests)
            source = StripeSource(api_base=server.url + "/pre%7Efix", timeout=HANG_GUARD, max_retries=0,
                                  parallel_reads=False)
            source._http = kind(timeout=(10.0, HANG_GUARD), api_base=source.api_base)
            evidence = source.collect(Tenant(company_id="ACME0000000000000001", name="Acme", contact=None),
                                      Record(environment=Environment.STAGE, secret_key=secret(KEY)))
            sent = [re.sub(rb'"request_duration_ms": ?\d+', b"", r) for r in server.requests[before:]]
            seen.append((evidence.model_dump(exclude={"collected_at", "failed_events_since"}), sent))
    (new, new_sent), (old, old_sent) = seen
    assert new == old and new["webhook_endpoints"] and len(new_sent) == 4
    assert [r for r in new_sent] == [re.sub(rb"Cookie: s=1\r\n", b"", r) for r in old_sent]  # no cookie now


# --- the prepared request itself, over many URLs -----------------------------------------------------

_URL_PIECES = st.sampled_from([
    "/", "//", "?", "#", "&", "=", "%", "%2", "%zz", "%7e", "%7E", "%2F", "%E2%82%AC", "ü", "€", "\x00", " ", "\t",
    "\n", "[", "]", "{", "|", "^", "`", '"', "<", ">", "'", "a", "v1", "..", ".", ";", ",", "\\", "*", "+", "~", "!",
    "$", "(", ":", "\u200b", "．", "\U0001f600", "types[0]=a", "created[gte]=1", "starting_after=we_1"])
# Every base validate_api_base lets through is http(s)://host[:port][/path] without user info, query,
# fragment, backslash or whitespace: Session.request told URLs outside that apart differently (its
# MissingSchema before the adapter's InvalidSchema; user info as Basic auth), which no request can reach.
_BASES = st.sampled_from(["http://127.0.0.1:1", "https://api.stripe.com", "http://localhost", "https://[::1]:8",
                          "http://127.0.0.1:1/pre%7efix", "https://bücher.example/ü", "HTTPS://API.STRIPE.COM"])


def _prepared_by(session: requests.Session, url: str, headers: Mapping[str, str], new: bool) -> Any:
    try:
        if new:
            adapter = session.get_adapter(url)
            prepared = readonly._prepared(session, url, headers)
        else:
            prepared = session.prepare_request(requests.Request("GET", url, headers=headers, data={}, params={}))
            adapter = session.get_adapter(prepared.url)
    except Exception as exc:
        return "raised", type(exc).__name__, str(exc)
    return (prepared.method, prepared.url, list(prepared.headers.items()), prepared.body, prepared.hooks,
            adapter is session.adapters["https://" if prepared.url.lower().startswith("https") else "http://"])


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_BASES, st.lists(_URL_PIECES, max_size=10).map("".join),
       st.sampled_from([SDK_HEADERS, {"user-agent": "x", "ACCEPT": "y"}, {"X": "caf\xe9"}, {}]))
def test_the_prepared_get_is_the_one_session_request_prepared(base: str, rest: str, headers: dict[str, str]) -> None:
    client = ReadOnlyHttpClient()
    client._ensure_session()
    session = client._thread_local.session
    url = base + rest
    assert _prepared_by(session, url, headers, new=True) == _prepared_by(session, url, headers, new=False)
