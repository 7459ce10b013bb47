"""The read-only guard: the only HTTP client the auditor gives the stripe SDK.

Every request the SDK makes passes through :meth:`ReadOnlyHttpClient.request`;
anything but ``GET`` raises :class:`ReadOnlyViolation` there, before a byte is
sent. Nothing the auditor does can therefore change a Stripe account, whatever
a future code change asks the SDK to do.
"""

from __future__ import annotations

from typing import Any, NoReturn

import requests
import stripe
from urllib.request import getproxies
from urllib.parse import urlsplit

ALLOWED_METHODS = frozenset({"GET"})


class ReadOnlyViolation(RuntimeError):
    """A request other than GET was about to leave the process."""


def _refuse(method: str, url: str) -> NoReturn:
    path = urlsplit(url).path or url.split("?", 1)[0]
    raise ReadOnlyViolation(f"refused {method.upper()} {path}: the auditor only ever sends GET requests")


class ReadOnlyHttpClient(stripe.RequestsClient):
    """``stripe.RequestsClient`` that refuses every method but GET, sync or async.

    It also reads the proxy settings from the environment once, instead of on every
    request as ``requests`` does (that scan of ``os.environ`` was a fifth of the
    auditor's CPU time per record).
    """

    def __init__(self, timeout: float | tuple[float, float] = 80, **kwargs: Any):
        proxies = {k: v for k, v in getproxies().items() if k in ("http", "https")}
        super().__init__(timeout=timeout, proxy=proxies or None, **kwargs)

    def _ensure_session(self) -> None:
        if getattr(self._thread_local, "session", None) is None:
            session = requests.Session()
            session.trust_env = False  # proxies were read once, above
            self._thread_local.session = session

    def request(self, method: str, url: str, headers: Any, post_data: Any = None):  # type: ignore[override]
        if method.upper() not in ALLOWED_METHODS:
            _refuse(method, url)
        self._ensure_session()
        return super().request(method, url, headers, post_data)

    def request_stream(self, method: str, url: str, headers: Any, post_data: Any = None):  # type: ignore[override]
        if method.upper() not in ALLOWED_METHODS:
            _refuse(method, url)
        self._ensure_session()
        return super().request_stream(method, url, headers, post_data)

    async def request_async(self, method: str, url: str, headers: Any, post_data: Any = None):  # type: ignore[override]
        _refuse(method, url)  # the auditor never uses the async API; refuse rather than bypass the guard

    async def request_stream_async(self, method: str, url: str, headers: Any, post_data: Any = None):  # type: ignore[override]
        _refuse(method, url)
