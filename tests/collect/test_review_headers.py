"""Review of the answer reader: ``_DeadlineResponse.begin`` (its own header parser) against CPython's.

The auditor's response class replaces ``http.client.HTTPResponse.begin`` with a
copy that reads plain header blocks without the e-mail parser. Whatever bytes a
server sends, the outcome must be the stock one: the same exception, or the same
status, version, reason, headers (order, duplicates, defects), the same framing
(chunked, length, will_close) and so the same body, read the same way. Both are
fed the very same bytes, from memory and through a real socket with a deadline.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.collect import limits
from auditor.collect.limits import _DeadlineResponse

_SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class _Bytes:
    """A socket that holds one answer: http.client reads it through ``makefile``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self._data))


def _shape(message: http.client.HTTPMessage) -> Any:
    fields = dict(vars(message))
    fields["defects"] = [(type(d), str(d)) for d in message.defects]
    payload = message.get_payload()
    if isinstance(payload, list):
        fields["_payload"] = [_shape(part) for part in payload]
    return fields


def _error(exc: BaseException) -> tuple[str, str]:
    return type(exc).__name__, re.sub(r"0x[0-9a-f]+", "0x…", str(exc))


def _outcome(response: http.client.HTTPResponse, how: str) -> Any:
    """Everything begin decides, then the body read as ``how`` reads it, then what is left unread."""
    try:
        response.begin()
    except Exception as exc:
        return "begin raised", _error(exc)
    head = (response.version, response.status, response.code, response.reason, response.chunked,
            response.length, response.will_close, _shape(response.msg), response.headers is response.msg,
            response.chunk_left if response.chunked else "n/a")
    pieces: list[Any] = []
    try:
        if how == "read":
            pieces.append(response.read())
        elif how == "read(7)":
            while piece := response.read(7):
                pieces.append(piece)
        elif how == "read1":
            while piece := response.read1(5):
                pieces.append(piece)
        else:
            buffer = bytearray(6)
            while n := response.readinto(buffer):
                pieces.append(bytes(buffer[:n]))
    except Exception as exc:
        pieces.append(("read raised", _error(exc)))
    return head, pieces, response.isclosed(), response.length


def _both(data: bytes, method: str = "GET", how: str = "read") -> tuple[Any, Any]:
    ours = _outcome(_DeadlineResponse(_Bytes(data), method=method), how)  # type: ignore[arg-type]
    stock = _outcome(http.client.HTTPResponse(_Bytes(data), method=method), how)  # type: ignore[arg-type]
    return ours, stock


# --- the grammar of odd answers ---------------------------------------------------------------------------

_ANY_BYTE = st.integers(0, 255).map(lambda b: bytes([b]))
_NAME_BYTES = st.one_of(st.sampled_from([b"Content-Type", b"content-length", b"X-A", b"Server", b"From", b"a",
                                         b"Transfer-Encoding", b"Connection", b"Keep-Alive", b"Proxy-Connection",
                                         b"", b" ", b"\t", b"A B", b"\xe9t\xe9", b"From ", b"X\x00", b"X\x7f"]),
                        st.lists(_ANY_BYTE, max_size=4).map(b"".join))
_VALUE_BYTES = st.one_of(
    st.sampled_from([b" application/json", b"multipart/mixed; boundary=b", b" Message/RFC822", b"\x85multipart/x",
                     b" \xa0message/partial", b" text/plain", b" chunked", b" CHUNKED", b" gzip, chunked",
                     b" chunked, gzip", b" 5", b" -1", b" 0", b" abc", b" 5, 5", b" 99999999999999999999", b" close",
                     b" keep-alive", b" Keep-Alive", b" timeout=5", b"", b" ", b"\t\t", b" \xff\xfe obs-text",
                     b" a\rb", b" a\x0bb", b" a\x0cb", b" a\x1cb", b" a\x85b", b" a\x00b", b" =?utf-8?q?x?=",
                     b" value  ", b": double", b" multipart/alternative; boundary=\"x\""]),
    st.lists(_ANY_BYTE, max_size=8).map(b"".join))
_EOL = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"\r\r\n", b"\n\r", b""])
_HEADER = st.one_of(
    st.builds(lambda n, v, e: n + b":" + v + e, _NAME_BYTES, _VALUE_BYTES, _EOL),
    st.builds(lambda v, e: v + e, _VALUE_BYTES, _EOL),  # no colon, or a continuation line
    st.sampled_from([b" folded\r\n", b"\tfolded\r\n", b"From nobody Mon Jan 1\r\n", b": no name\r\n",
                     b"--b\r\n", b"Content-Length: 3\r\nContent-Length: 4\r\n",
                     b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"]))
_STATUS = st.builds(
    lambda version, code, reason, eol: version + b" " + code + reason + eol,
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/0.9", b"HTTP/1.2", b"HTTP/2", b"HTTPS/1.1",
                     b"http/1.1", b"ICY"]),
    st.sampled_from([b"200", b"200", b"204", b"304", b"100", b"101", b"199", b"404", b"503", b"099", b"1000",
                     b"abc", b"20"]),
    st.sampled_from([b" OK", b"", b" ", b"  spaced reason  ", b" \xe9\xff", b" Continue"]),
    st.sampled_from([b"\r\n", b"\r\n", b"\n", b""]))
_CONTINUE = st.builds(lambda headers: b"HTTP/1.1 100 Continue\r\n" + b"".join(headers) + b"\r\n",
                      st.lists(_HEADER, max_size=2))
_BODY = st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"3\r\nab", b"zz\r\n", b"0\r\n\r\n",
                         b"4;ext=1\r\nabcd\r\n0\r\nTrailer: x\r\n\r\nafter", b"x" * 40, b"\r\nhello"])
_BLANK = st.sampled_from([b"\r\n", b"\r\n", b"\n", b""])


@_SETTINGS
@given(st.lists(_CONTINUE, max_size=2), _STATUS, st.lists(_HEADER, max_size=7), _BLANK, _BODY,
       st.sampled_from(["GET", "GET", "HEAD"]), st.sampled_from(["read", "read(7)", "read1", "readinto"]))
def test_any_answer_is_read_as_http_client_reads_it(continues, status, headers, blank, body, method, how) -> None:
    data = b"".join(continues) + status + b"".join(headers) + blank + body
    ours, stock = _both(data, method, how)
    assert ours == stock, data


@_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["Server", "Content-Type", "Request-Id", "Set-Cookie", "X-Dup", "x-dup",
                                           "Stripe-Version", "Cache-Control", "Access-Control-Allow-Methods"]),
                          st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff, exclude_characters="\x7f"),
                                  max_size=20)), max_size=12),
       st.sampled_from([b"\r\n", b"\n"]))
def test_plain_header_blocks_of_any_latin1_values_are_the_stock_messages(pairs, eol) -> None:
    """The blocks the quick path takes: every Latin-1 value, duplicate names, either line ending."""
    block = b"".join(f"{n}: {v}".encode("latin-1") + eol for n, v in pairs)
    ours, stock = _both(b"HTTP/1.1 200 OK" + eol + block + b"Content-Length: 2" + eol + eol + b"{}")
    assert ours == stock


@pytest.mark.parametrize("data", [
    b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(100)) + b"\r\n",  # 100 + blank: > 100
    b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(99)) + b"\r\n",
    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 65536 + b"\r\n\r\n",  # one byte over _MAXLINE with its CRLF
    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 65526 + b"\r\n\r\n",  # exactly _MAXLINE
    b"HTTP/1.1 100 Continue\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\nHTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nab",
    b"HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n",  # the connection ends after the status line
    b"HTTP/1.1 200 OK\r\nServer: x\r\n",  # ... or in the header block
    b"",
    b"HTTP/1.1 " + b"9" * 70000 + b"\r\n",
    b"HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nab",
    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nab",
    b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 2\r\n\r\nab",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nbody",
    b"HTTP/1.1 200 OK\r\nContent-Type: message/delivery-status\r\n\r\nA: b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\tc\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: a\rY: b\r\n\r\n",
    b"HTTP/1.1 200 OK\nX: a\nY: b\n\n",
    b"HTTP/1.1 200 OK\r\nno colon\r\nX: a\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX:\xe9\xff\x80\r\n\r\n",
])
def test_odd_answers_are_read_as_http_client_reads_them(data: bytes) -> None:
    for method in ("GET", "HEAD"):
        for how in ("read", "read(7)", "read1", "readinto"):
            ours, stock = _both(data, method, how)
            assert ours == stock


def _through_a_socket(cls: type[http.client.HTTPResponse], data: bytes) -> Any:
    """The answer read from a real socket, with the thread's deadline set as the collector sets it."""
    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(data)
        theirs.shutdown(socket.SHUT_WR)
        ours.settimeout(60)  # a hang guard only
        limits.set_deadline(time.monotonic() + 600)
        try:
            return _outcome(cls(ours, method="GET"), "read")
        finally:
            limits.set_deadline(None)
    finally:
        ours.close()
        theirs.close()


class _StockDeadlineResponse(_DeadlineResponse):
    begin = http.client.HTTPResponse.begin  # the deadline reader, with CPython's own begin


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_CONTINUE, max_size=1), _STATUS, st.lists(_HEADER, max_size=5), _BLANK, _BODY)
def test_through_the_deadline_reader_the_answer_is_the_stock_one(continues, status, headers, blank, body) -> None:
    data = b"".join(continues) + status + b"".join(headers) + blank + body
    assert _through_a_socket(_DeadlineResponse, data) == _through_a_socket(_StockDeadlineResponse, data)


# --- the running Python's own begin -----------------------------------------------------------------------

_INTERIM = b"HTTP/1.1 100 Continue\r\nX-Hint: 1\r\n\r\n"
_FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


# CPython's names, as a copy of its begin finds them among its globals
CONTINUE, NO_CONTENT, NOT_MODIFIED = http.client.CONTINUE, http.client.NO_CONTENT, http.client.NOT_MODIFIED
HTTPException, UnknownProtocol = http.client.HTTPException, http.client.UnknownProtocol
_read_headers, parse_headers = http.client._read_headers, http.client.parse_headers  # type: ignore[attr-defined]
_MAXINTERIMRESPONSES = 5  # CPython's is 100: a small one keeps the test short


def _newer_begin(self: Any) -> None:
    """``HTTPResponse.begin`` as CPython releases after 3.11.7 have it: at most ``_MAXINTERIMRESPONSES``
    status lines are read while skipping ``100 Continue`` (a server may not keep the client in the loop)."""
    if self.headers is not None:
        return
    for _ in range(_MAXINTERIMRESPONSES):
        version, status, reason = self._read_status()
        if status != CONTINUE:
            break
        skipped_headers = _read_headers(self.fp)
        if self.debuglevel > 0:
            print("headers:", skipped_headers)
        del skipped_headers
    else:
        raise HTTPException(f"got more than {_MAXINTERIMRESPONSES} interim responses")
    self.code = self.status = status
    self.reason = reason.strip()
    if version in ("HTTP/1.0", "HTTP/0.9"):
        self.version = 10
    elif version.startswith("HTTP/1."):
        self.version = 11
    else:
        raise UnknownProtocol(version)
    self.headers = self.msg = parse_headers(self.fp)
    tr_enc = self.headers.get("transfer-encoding")
    if tr_enc and tr_enc.lower() == "chunked":
        self.chunked = True
        self.chunk_left = None
    else:
        self.chunked = False
    self.will_close = self._check_close()
    self.length = None
    length = self.headers.get("content-length")
    if length and not self.chunked:
        try:
            self.length = int(length)
        except ValueError:
            self.length = None
        else:
            if self.length < 0:
                self.length = None
    else:
        self.length = None
    if status in (NO_CONTENT, NOT_MODIFIED) or 100 <= status < 200 or self._method == "HEAD":
        self.length = 0
    if not self.will_close and not self.chunked and self.length is None:
        self.will_close = True


@pytest.mark.parametrize("interim", [0, 1, 98, 99, 100, 101, 150])
def test_as_many_interim_answers_as_the_running_python_allows(interim: int) -> None:
    ours, stock = _both(_INTERIM * interim + _FINAL)
    assert ours == stock


def test_the_quick_begin_is_the_running_pythons_own_code() -> None:
    """A copy of 3.11's begin would fall behind the Python it runs on (later releases cap the interim
    answers): begin is CPython's own code, only its header parser bound to the quick one."""
    assert _DeadlineResponse.begin.__code__ is http.client.HTTPResponse.begin.__code__


@pytest.mark.parametrize("interim", [3, 4, 5, 6])
def test_a_newer_pythons_cap_on_interim_answers_holds_for_the_quick_begin(monkeypatch, interim: int) -> None:
    """On a Python whose begin caps the interim answers, the quick begin caps them alike (and reads its
    header blocks quickly: a parser of its own would not see the cap)."""
    monkeypatch.setattr(http.client.HTTPResponse, "begin", _newer_begin)
    quick = type("Quick", (_DeadlineResponse,), {"begin": limits.quick_begin()})
    assert quick.begin.__globals__["parse_headers"] is not parse_headers
    data = _INTERIM * interim + _FINAL
    ours = _outcome(quick(_Bytes(data), method="GET"), "read")
    stock = _outcome(http.client.HTTPResponse(_Bytes(data), method="GET"), "read")  # type: ignore[arg-type]
    assert ours == stock
    assert (ours[0] == "begin raised") is (interim >= 5)
