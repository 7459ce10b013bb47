"""Can Stripe be reached at all? One cheap GET before the fleet, so a dead network is one message, not 400.

The probe goes through the same read-only HTTP client (and so the same proxy
settings) as the audit, to the API base the audit would use, and carries no
key: any HTTP answer, even 401 or 404, proves the way is open. Only a refused
connection, an unresolved host or a timeout stops the run.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
import stripe

from auditor.collect.readonly import ReadOnlyHttpClient


def unreachable_reason(api_base: str, timeout: float, attempts: int = 2) -> str | None:
    """Why ``api_base`` cannot be reached (``None`` when something answered); retried once for a blip."""
    client = ReadOnlyHttpClient(timeout=(min(timeout, 10.0), timeout), api_base=api_base)
    reason = None
    for _ in range(max(1, attempts)):
        try:
            client.request("get", api_base.rstrip("/") + "/v1", headers={"User-Agent": "plenigo-stripe-audit"})
            return None
        except stripe.APIConnectionError as exc:
            reason = _plain_reason(exc)
    return reason


def host_of(api_base: str) -> str:
    parts = urlsplit(api_base)
    return parts.netloc or api_base


def _plain_reason(exc: stripe.APIConnectionError) -> str:
    if isinstance(exc.__cause__, requests.exceptions.ProxyError):
        return "the proxy set in HTTPS_PROXY could not be reached"
    if isinstance(exc.__cause__, requests.exceptions.Timeout):  # the transport's own deadline (AnswerTooSlow) too
        return "no answer within the timeout"
    text = repr(exc.__cause__ or exc).lower() + " " + str(exc).lower()
    if "timed out" in text or "timeout" in text:
        return "no answer within the timeout"
    if "refused" in text:
        return "connection refused"
    if any(w in text for w in ("name or service not known", "nodename nor servname", "getaddrinfo", "resolution",
                               "no address associated")):
        return "the host name could not be resolved"
    return "the connection failed"
