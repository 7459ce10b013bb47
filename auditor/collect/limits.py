"""Limits on every Stripe answer: a total deadline and a size cap, decompressed.

A socket timeout bounds each ``recv``, not an answer: a server that sends one
byte a second never trips it, in the headers or in the body. So every read of
the socket checks the request's deadline first and lowers the socket timeout to
what is left of it (:class:`_DeadlineReader`, plugged in as the connection's
``response_class``, which also reads the status line and headers). The body is
read raw, in chunks, and inflated here with ``max_length`` (:class:`Body`), so a
gzip bomb costs at most the cap, never what it inflates to.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
import types
import zlib
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError

from auditor.collect.headers import read_header_block

DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a page of 100 Stripe objects is well under 1 MB
CHUNK = 64 * 1024
_NOW = threading.local()  # .deadline: when the answer this thread is reading must be complete (monotonic)


class AnswerRefused(requests.exceptions.RequestException):
    """An answer the auditor will not read (too large, a redirect, an unknown encoding); never retried."""


class AnswerTooSlow(requests.exceptions.ReadTimeout):
    """The answer was not complete by its deadline; retried like any timeout while the record has time."""


def set_deadline(at: float | None) -> None:
    """Reads of the socket by this thread must be done by ``at`` (``time.monotonic()``); None lifts it."""
    _NOW.deadline = at


def size_text(limit: int) -> str:
    """``8 MB`` or ``64 KB``: the cap as the error message names it."""
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 1024:g} KB"


class _DeadlineReader(io.RawIOBase):
    """The socket as a file whose every read ends by the deadline, however slowly bytes arrive."""

    def __init__(self, sock: Any, deadline: float):
        super().__init__()
        self._sock = sock
        self._file: io.RawIOBase = sock.makefile("rb", buffering=0)  # a reference: the socket stays open for us
        self._deadline = deadline
        self._timeout = sock.gettimeout()  # the per-read timeout the connection set

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:  # None: no data yet on a non-blocking socket (io.RawIOBase)
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer's deadline passed")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))
        return self._file.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def _parse_headers(fp: Any, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage) -> Any:
    """``http.client.parse_headers``, plain header blocks read by :mod:`auditor.collect.headers`."""
    return read_header_block(fp) if _class is http.client.HTTPMessage else http.client.parse_headers(fp, _class)


def quick_begin() -> Callable[[http.client.HTTPResponse], None]:
    """The running Python's own ``HTTPResponse.begin``, its header block read by :func:`_parse_headers`.

    The very code of the standard library's ``begin`` (status line, ``100 Continue``
    and its cap on interim answers in later releases, version, framing: chunked,
    length, will_close), with only the global name ``parse_headers`` bound to the
    quick reader: a copy of one release's ``begin`` would fall behind the Python it
    runs on.
    """
    stock = http.client.HTTPResponse.begin
    names = dict(stock.__globals__, parse_headers=_parse_headers)
    return types.FunctionType(stock.__code__, names, stock.__name__, stock.__defaults__, stock.__closure__)


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response (status line, headers, body) read through a :class:`_DeadlineReader`."""

    def __init__(self, sock: Any, debuglevel: int = 0, method: str | None = None, url: str | None = None):
        super().__init__(sock, debuglevel, method, url)
        deadline = getattr(_NOW, "deadline", None)
        if deadline is not None:
            self.fp.close()
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))

    begin = quick_begin()


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) read by the thread's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if getattr(manager, "pool_classes_by_scheme", None) is not None and not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class Body:
    """An answer's bytes, inflated when gzip/deflate-encoded, refused once past ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int):
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)  # a gzip or a zlib header
        else:
            raise AnswerRefused(f"the answer is encoded as {encoding[:30]!r}, which the auditor does not read")
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._received = 0

    def feed(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self._limit:
            self._too_large()
        if self._inflater is None:
            self._keep(data)
            return
        while data:  # max_length: never more than one byte past the limit in memory
            try:
                piece = self._inflater.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                raise requests.exceptions.ContentDecodingError(f"the compressed answer is corrupt ({exc})") from None
            self._keep(piece)
            data = self._inflater.unconsumed_tail

    def content(self) -> bytes:
        if self._inflater is not None:
            self._keep(self._inflater.flush())  # all input was inflated above: only a remnant is left
        return b"".join(self._parts)

    def _keep(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            self._too_large()
        self._parts.append(piece)

    def _too_large(self) -> None:
        raise AnswerRefused(f"the answer is larger than {size_text(self._limit)}")


def read_body(response: requests.Response, limit: int) -> bytes:
    """The whole body, streamed in chunks and capped at ``limit`` bytes before and after inflating."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerRefused(f"the answer is larger than {size_text(limit)} ({int(declared)} bytes announced)")
    body = Body(response.headers.get("Content-Encoding", ""), limit)
    try:
        for chunk in response.raw.stream(CHUNK, decode_content=False):
            body.feed(chunk)
    except ProtocolError as exc:  # what requests' own iter_content raises for these
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    return body.content()
