"""The read-only guard: the only HTTP client the auditor gives the stripe SDK.

Every request the SDK makes passes through :meth:`ReadOnlyHttpClient.request`;
anything but ``GET`` raises :class:`ReadOnlyViolation` there, before a byte is
sent. Nothing the auditor does can therefore change a Stripe account, whatever
a future code change asks the SDK to do.
"""

from __future__ import annotations

from typing import Any, NoReturn

import requests
from requests.utils import get_environ_proxies
import stripe
from urllib.parse import urlsplit

ALLOWED_METHODS = frozenset({"GET"})


class ReadOnlyViolation(RuntimeError):
    """A request other than GET was about to leave the process."""


def _refuse(method: str, url: str) -> NoReturn:
    path = urlsplit(url).path or url.split("?", 1)[0]
    raise ReadOnlyViolation(f"refused {method.upper()} {path}: the auditor only ever sends GET requests")


class ReadOnlyHttpClient(stripe.RequestsClient):
    """``stripe.RequestsClient`` that refuses every method but GET, sync or async.

    It also reads the proxy settings for ``api_base`` (every request goes there)
    from the environment once, ``NO_PROXY`` included, instead of on every request
    as ``requests`` does (that scan of ``os.environ`` was a fifth of the auditor's
    CPU time per record).
    """

    def __init__(self, timeout: float | tuple[float, float] = 80, api_base: str = stripe.DEFAULT_API_BASE,
                 **kwargs: Any):
        proxies = {k: v for k, v in get_environ_proxies(api_base).items() if k in ("http", "https")}
        if api_base.startswith("http://"):
            proxies = {}  # plain http is allowed on loopback only: through a proxy the keys would leave in clear
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
