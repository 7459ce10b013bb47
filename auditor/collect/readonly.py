"""The read-only guard: the only HTTP client the auditor gives the stripe SDK.

Every request the SDK makes passes through :meth:`ReadOnlyHttpClient.request`;
anything but ``GET`` raises :class:`ReadOnlyViolation` there, before a byte is
sent. Nothing the auditor does can therefore change a Stripe account, whatever
a future code change asks the SDK to do.

It is also where every answer is held to its limits (:mod:`auditor.collect.limits`):
a total deadline from connect to the last byte, a size cap after inflating, and
no redirect ever followed (Stripe never redirects; a redirect would carry the key
to whatever host it names).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import AsyncIterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn, cast
from urllib.parse import urljoin, urlsplit

import requests
import requests.hooks
import stripe
from requests.utils import get_environ_proxies

from auditor.collect.limits import (
    DEFAULT_MAX_ANSWER_BYTES,
    AnswerRefused,
    AnswerTooSlow,
    DeadlineAdapter,
    read_body,
    set_deadline,
)
from auditor.collect.sending import note_sending

ALLOWED_METHODS = frozenset({"GET"})
_CLOCK_SLACK = 0.05  # seconds: a socket timeout set to end at the deadline may wake a hair before it


class ReadOnlyViolation(RuntimeError):
    """A request other than GET was about to leave the process."""


def _refuse(method: str, url: str) -> NoReturn:
    path = urlsplit(url).path or url.split("?", 1)[0]
    raise ReadOnlyViolation(f"refused {method.upper()} {path}: the auditor only ever sends GET requests")


class _NoRedirects(requests.Session):
    """A session that never follows a redirect, nor reads a redirect's body (requests does both otherwise,
    the body unbounded, even with ``allow_redirects=False``): Stripe never redirects, so a 3xx is an error."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


class ReadOnlyHttpClient(stripe.RequestsClient):
    """``stripe.RequestsClient`` that refuses every method but GET, sync or async.

    It also reads the proxy settings for ``api_base`` (every request goes there)
    from the environment once, ``NO_PROXY`` included, instead of on every request
    as ``requests`` does (that scan of ``os.environ`` was a fifth of the auditor's
    CPU time per record).
    """

    def __init__(self, timeout: float | tuple[float, float] = 80, api_base: str = stripe.DEFAULT_API_BASE,
                 max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES, **kwargs: Any):
        proxies = {k: v for k, v in get_environ_proxies(api_base).items() if k in ("http", "https")}
        if urlsplit(api_base.strip()).scheme.lower() != "https":  # decided on the parsed scheme: HTTP:// too
            proxies = {}  # plain http is allowed on loopback only: through a proxy the keys would leave in clear
        # The SDK's TypedDict wants both keys; it accepts "http and/or https", which is what requests found.
        super().__init__(timeout=timeout, proxy=cast("stripe.HTTPClient._Proxy", proxies) or None, **kwargs)
        self.max_answer_bytes = max_answer_bytes
        self._caps = threading.local()

    @contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        """Requests this thread makes inside the block end by ``at`` (``time.monotonic()``) at the latest."""
        self._caps.at = at
        try:
            yield
        finally:
            self._caps.at = None

    def _ensure_session(self) -> None:
        if getattr(self._thread_local, "session", None) is None:
            session = _NoRedirects()
            session.trust_env = False  # proxies were read once, above
            session.headers["Accept-Encoding"] = "gzip, deflate"  # the encodings limits.Body inflates with a cap
            for prefix in ("http://", "https://"):
                session.mount(prefix, DeadlineAdapter())
            self._thread_local.session = session

    # RequestsClient's own signature (bytes, no _usage), which already differs from HTTPClient's.
    def request(self, method: str, url: str, headers: Mapping[str, str] | None,  # type: ignore[override]
                post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        if method.upper() not in ALLOWED_METHODS:
            _refuse(method, url)
        self._ensure_session()
        try:
            return self._exchange(method, url, headers, post_data)
        except Exception as exc:  # the SDK's own mapping to APIConnectionError, cause kept
            self._handle_request_error(exc)

    def _exchange(self, method: str, url: str, headers: Mapping[str, str] | None,
                  post_data: Any) -> tuple[bytes, int, Mapping[str, str]]:
        """One request, connect to last byte within its deadline, the body capped; no redirect followed."""
        start = time.monotonic()
        deadline = min(start + self._total, getattr(self._caps, "at", None) or float("inf"))
        set_deadline(deadline)
        try:
            left = max(deadline - start, 0.001)
            session = self._thread_local.session
            note_sending()
            response = session.get_adapter(url).send(
                _prepared(session, url, headers), stream=True,
                timeout=(min(self._connect, left), min(self._total, left)),
                verify=stripe.ca_bundle_path if self._verify_ssl_certs else False, cert=None, proxies=self._proxy or {})
            with response:
                if 300 <= response.status_code < 400:
                    raise AnswerRefused(_redirect_message(response, url))
                return _utf8(read_body(response, self.max_answer_bytes)), response.status_code, response.headers
        except requests.exceptions.Timeout as exc:
            if time.monotonic() >= deadline - _CLOCK_SLACK:  # the total deadline ended it, not one slow read
                raise AnswerTooSlow(f"the answer was not complete within {deadline - start:.3g} s") from exc
            raise
        finally:
            set_deadline(None)

    @property
    def _total(self) -> float:
        return float(self._timeout[1] if isinstance(self._timeout, tuple) else self._timeout)

    @property
    def _connect(self) -> float:
        return float(self._timeout[0] if isinstance(self._timeout, tuple) else self._timeout)

    # RequestsClient's own signature (no _usage), which already differs from HTTPClient's.
    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None,  # type: ignore[override]
                       post_data: Any = None) -> tuple[Any, int, Mapping[str, str]]:
        if method.upper() not in ALLOWED_METHODS:
            _refuse(method, url)
        self._ensure_session()
        return super().request_stream(method, url, headers, post_data)

    async def request_async(self, method: str, url: str, headers: Mapping[str, str],
                            post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        _refuse(method, url)  # the auditor never uses the async API; refuse rather than bypass the guard

    async def request_stream_async(self, method: str, url: str, headers: Mapping[str, str],
                                   post_data: Any = None) -> tuple[AsyncIterable[bytes], int, Mapping[str, str]]:
        _refuse(method, url)


def _prepared(session: requests.Session, url: str, headers: Mapping[str, str] | None) -> requests.PreparedRequest:
    """The GET that ``session.request`` would prepare, without its per-request machinery.

    ``Session.request`` merges cookies, hooks, environment settings and headers
    through several generic layers, and re-parses the URL the SDK has already
    encoded: about a third of the auditor's CPU per record at fleet scale. The
    request goes to the session's adapter as before (so ``responses`` and the
    deadline adapter see it unchanged), with the session's default headers under
    the SDK's, the URL as requests would prepare it (computed once per URL), no
    body, and no cookies: nothing one tenant's answer set is sent with another
    tenant's key.
    """
    prepared = requests.PreparedRequest()
    prepared.method = "GET"
    prepared.url = _prepared_url(url)
    merged = dict(session.headers)
    merged.update(headers or {})
    prepared.prepare_headers({name: value for name, value in merged.items() if value is not None})
    prepared.body = None
    prepared.hooks = requests.hooks.default_hooks()
    return prepared


@functools.lru_cache(maxsize=256)
def _prepared_url(url: str) -> str:
    """``url`` as ``PreparedRequest.prepare_url`` writes it (a run asks a handful of distinct URLs)."""
    probe = requests.PreparedRequest()
    probe.prepare_url(url, None)
    return str(probe.url)


def _utf8(body: bytes) -> bytes:
    """The body as valid UTF-8: the SDK's debug log decodes it outside its own error handling, so a proxy's
    Latin-1 error page raised there; replaced, it is a 5xx retried as usual, or an answer that is not JSON."""
    if body.isascii():
        return body
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace").encode("utf-8")


def _redirect_message(response: requests.Response, url: str) -> str:
    """Where a redirect pointed, as a bare host name (the Location header is the server's text)."""
    location = response.headers.get("Location", "").strip()
    target = urlsplit(urljoin(url, location))
    host = re.sub(r"[^a-z0-9.:\[\]-]", "", (target.hostname or "").lower())[:100] or "an unnamed place"
    if not location:  # not "to" the API's own host, which urljoin would make of nothing
        host = "no target (no Location header)"
    return (f"Stripe answered with a redirect (HTTP {response.status_code}) to {host}; the auditor never follows "
            "redirects, so the key was not sent there")
