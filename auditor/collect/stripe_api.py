"""Asking Stripe, read-only: the account, every webhook endpoint, undelivered events.

One ``stripe.StripeClient`` per secret key (never the module-global
``stripe.api_key``, which threads would share), all over one
:class:`~auditor.collect.readonly.ReadOnlyHttpClient`. Retries are ours: the
SDK retries nothing unless told to and never retries a 429, so the SDK's own
retries are off and :meth:`StripeSource._call` retries 429, 409, 5xx, timeouts
and connection errors with back-off, honouring ``Retry-After`` and
``Stripe-Should-Retry``, within a deadline per record.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import stripe
from urllib3.util import parse_url

from auditor.collect import shapes
from auditor.collect.limits import DEFAULT_MAX_ANSWER_BYTES, AnswerRefused, AnswerTooSlow, size_text
from auditor.collect.readonly import ReadOnlyHttpClient, ReadOnlyViolation
from auditor.config import Record, Tenant
from auditor.evidence import Account, ErrorKind, Event, FetchError, RecordEvidence, WebhookEndpoint
from auditor.logs import silence_sdk_console
from auditor.parallel import HelperThreads
from auditor.redact import mask, scrub, scrub_model
from auditor.rules.guide import REQUIRED_EVENTS
from auditor.rules.text import stray_characters

log = logging.getLogger(__name__)
silence_sdk_console()  # the SDK is imported only when Stripe is asked; from then on only logging speaks for it

DEFAULT_API_BASE = stripe.DEFAULT_API_BASE  # https://api.stripe.com
PAGE_SIZE = 100
MAX_EVENT_PAGES = 10
MAX_ENDPOINT_PAGES = 100

T = TypeVar("T")


def validate_api_base(url: str | None) -> str:
    """An API base to send secret keys to: https anywhere, plain http only on loopback.

    Returned normalised (scheme and host lower-cased, no trailing slash): every later decision
    (the proxy, the loopback rule) is made on this one parsed form, so ``HTTP://`` is ``http://``.
    """
    if not url:
        return DEFAULT_API_BASE
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL such as https://api.stripe.com")
    # URL parsers disagree about these (a backslash or an @ can move the real host elsewhere):
    # refuse them rather than let the loopback check judge another host than the one connected to.
    if _AMBIGUOUS.search(url) or parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not a plain API base: no user info, query, fragment, backslash or spaces")
    if (parse_url(url).host or "").strip("[]").lower() != parts.hostname.lower():
        raise ValueError(f"{url!r} is ambiguous: its host reads differently to different URL parsers")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"refusing plain-http API base {url!r}: secret keys would cross the network in clear "
                         "(use https, or http only on localhost)")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


_AMBIGUOUS = re.compile(r"[\\@\s\x00-\x1f\x7f]")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Budget:
    """The deadline of one record, and the requests one of its reads made.

    ``stop`` is set when an earlier read found Stripe unreachable: this read's
    answer will not be used, so it sends nothing more and waits out no back-off.
    """

    deadline: float
    requests: int = 0
    received: int = 0  # characters of this read's answers, all pages together (per read, so that reads made
    # at once give the same verdict as reads made one after the other: a shared total would depend on timing)
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Outcome:
    """One read's answer, gathered apart from the record's evidence until it is taken."""

    scratch: RecordEvidence
    requests: int
    fatal: FetchError | None  # Stripe unreachable, or an unexpected failure: the later reads are moot


_STOPPED = "not read: an earlier read of this record found Stripe unreachable"
# Each read and the evidence fields it fills, in the order a sequential audit made them.
_PARTS = (("_read_account", ("account", "account_error")),
          ("_read_endpoints", ("webhook_endpoints", "webhook_endpoints_error")),
          ("_read_events", ("failed_events", "failed_events_error", "failed_events_since", "failed_events_truncated")))
_HELPERS = HelperThreads()


@dataclass
class StripeSource:
    """The evidence source that asks Stripe; safe to call from many threads at once."""

    api_base: str | None = None
    timeout: float = 20.0
    max_retries: int = 4
    delivery_window_days: int = 7
    record_deadline: float = 120.0
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    max_record_bytes: int = 3 * DEFAULT_MAX_ANSWER_BYTES  # all pages of one read: 100 pages under the cap add up
    parallel_reads: bool = True  # a record's three reads at once: one round trip instead of three
    sleep: Callable[[float], None] | None = None  # None: back-offs wait on the read's stop signal
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _http: ReadOnlyHttpClient = field(init=False, repr=False)  # set in __post_init__, from the fields above

    def __post_init__(self) -> None:
        self.api_base = validate_api_base(self.api_base)
        self._http = ReadOnlyHttpClient(timeout=(min(self.timeout, 10.0), self.timeout), api_base=self.api_base,
                                        max_answer_bytes=self.max_answer_bytes)

    @property
    def reads_at_once(self) -> int:
        """Requests a record has in flight when its reads have all begun (auditor.collect.prefetch waits for it)."""
        return len(_PARTS) if self.parallel_reads else 1

    # --- one record ---------------------------------------------------------

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        """Read the three answers for one record; every failure is written into the evidence."""
        evidence = RecordEvidence(company_id=tenant.company_id, environment=record.environment.value,
                                  collected_at=self.now().replace(microsecond=0), api_base=self.api_base)
        key = record.secret_key.reveal() if record.secret_key else ""
        evidence.key_hint = mask(key) if key else None
        reason = _unusable(key)
        if reason:
            evidence.not_asked = reason
            return evidence
        try:
            self._read_all(self._client(key), key, evidence)
        except Exception as exc:  # never let one record's surprise escape
            log.warning("unexpected %s while asking Stripe for %s", type(exc).__name__, tenant.company_id)
            evidence.fail_unanswered(FetchError(kind=ErrorKind.OTHER, message=f"unexpected {type(exc).__name__}"))
        return scrub_model(evidence)  # Stripe's strings masked before anything diffs or logs them

    def _read_all(self, client: stripe.StripeClient, key: str, evidence: RecordEvidence) -> None:
        """The three reads, at once, merged exactly as if made one after the other.

        One after the other, a read that found Stripe unreachable (or failed
        unexpectedly) ended the record: the later reads were not made and took
        its error. So answers are taken in order up to the first such read; the
        later ones are told to stop and are not waited for (their answers are
        dropped, and so are their requests from ``requests_made``).
        """
        deadline, stop = time.monotonic() + self.record_deadline, threading.Event()
        pending: list[Callable[[], _Outcome] | Future[_Outcome]] = []
        for n, (read, _) in enumerate(_PARTS):
            read_it = functools.partial(self._read_one, getattr(self, read), client, key,
                                        _Budget(deadline, stop=stop), evidence)
            if self.parallel_reads and n:  # on a helper thread, in the context of this record (its log lines)
                pending.append(_HELPERS.submit(functools.partial(contextvars.copy_context().run, read_it)))
            else:
                pending.append(read_it)
        for (_, fields), job in zip(_PARTS, pending, strict=True):
            outcome = job.result() if isinstance(job, Future) else job()
            for name in fields:
                setattr(evidence, name, getattr(outcome.scratch, name))
            evidence.requests_made += outcome.requests
            if outcome.fatal:  # the later reads would wait out the same retries for nothing
                stop.set()
                evidence.fail_unanswered(outcome.fatal)
                return

    def _read_one(self, read: Callable[..., None], client: stripe.StripeClient, key: str, budget: _Budget,
                  evidence: RecordEvidence) -> _Outcome:
        """One read into evidence of its own, so that a read still running never touches the record's."""
        scratch = RecordEvidence(company_id=evidence.company_id, environment=evidence.environment)
        try:
            read(client, key, budget, scratch)
            fatal = _unreachable(scratch)
        except Exception as exc:
            log.warning("unexpected %s while asking Stripe for %s", type(exc).__name__, evidence.company_id)
            fatal = FetchError(kind=ErrorKind.OTHER, message=f"unexpected {type(exc).__name__}")
        return _Outcome(scratch, budget.requests, fatal)

    def _read_account(self, client: stripe.StripeClient, key: str, budget: _Budget, ev: RecordEvidence) -> None:
        raw, ev.account_error = self._call(lambda: client.raw_request("get", "/v1/account"), "/v1/account", key,
                                           budget)
        if raw is not None:
            ev.account, ev.account_error = _parse(lambda: _account(raw), "/v1/account")

    def _read_endpoints(self, client: stripe.StripeClient, key: str, budget: _Budget, ev: RecordEvidence) -> None:
        def page(after: str | None) -> Any:
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if after:
                params["starting_after"] = after
            return client.raw_request("get", "/v1/webhook_endpoints", **params)

        items, ev.webhook_endpoints_error, truncated = self._paginate(page, "/v1/webhook_endpoints", key, budget,
                                                                      MAX_ENDPOINT_PAGES)
        if truncated:  # Stripe allows 16 endpoints: the rules must not judge a list cut off anywhere
            ev.webhook_endpoints_error = FetchError(
                kind=ErrorKind.INVALID_RESPONSE, path="/v1/webhook_endpoints",
                message=f"the list does not end: more than {MAX_ENDPOINT_PAGES} pages of webhook endpoints")
        elif items is not None:
            ev.webhook_endpoints, ev.webhook_endpoints_error = _parse(
                lambda: [_endpoint(i) for i in items], "/v1/webhook_endpoints")

    def _read_events(self, client: stripe.StripeClient, key: str, budget: _Budget, ev: RecordEvidence) -> None:
        since = self.now().replace(microsecond=0) - timedelta(days=self.delivery_window_days)
        ev.failed_events_since = since

        def page(after: str | None) -> Any:
            # Only the 15 types plenigo subscribes to (WH010): the SDK sends them as types[0]=…, types[1]=…
            params: dict[str, Any] = {"limit": PAGE_SIZE, "delivery_success": False,
                                      "types": list(REQUIRED_EVENTS), "created": {"gte": int(since.timestamp())}}
            if after:
                params["starting_after"] = after
            return client.raw_request("get", "/v1/events", **params)

        items, ev.failed_events_error, truncated = self._paginate(page, "/v1/events", key, budget, MAX_EVENT_PAGES,
                                                                  partial_ok=True)
        if items is not None:
            ev.failed_events, ev.failed_events_error = _parse(lambda: [_event(i) for i in items], "/v1/events")
            ev.failed_events_truncated = truncated

    # --- the machinery ------------------------------------------------------

    def _client(self, key: str) -> stripe.StripeClient:
        """A client of the record's own key, for its three reads (kept by no one after: a worker holding one
        per key grew with the fleet, and each key is asked for one record)."""
        return stripe.StripeClient(key, base_addresses={"api": self.api_base}, http_client=self._http,
                                   max_network_retries=0)

    def _paginate(self, fetch: Callable[[str | None], Any], path: str, key: str, budget: _Budget,
                  max_pages: int, partial_ok: bool = False) -> tuple[list[Any] | None, FetchError | None, bool]:
        """Every item of a Stripe list, page by page; stops (truncated) after ``max_pages``, or past the
        record's total of answers (``max_record_bytes``): then truncated if ``partial_ok``, else an error."""
        items: list[Any] = []
        seen: set[str] = set()
        after: str | None = None
        for _ in range(max_pages):
            page, error = self._call(functools.partial(fetch, after), path, key, budget)
            if error is not None:
                return None, error, False
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path,
                                        message="the answer is not a Stripe list object"), False
            if len(data) > PAGE_SIZE:  # Stripe never sends more than asked: tiny items would pile up by the million
                return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path, message=f"a page holds "
                                        f"{len(data)} items, more than the {PAGE_SIZE} asked for"), False
            if _repeats(data, seen):
                return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path,
                                        message="the list does not advance: a page repeated items already "
                                                "read (the cursor was not honoured)"), False
            items.extend(data)
            if not (isinstance(page, dict) and page.get("has_more")) or not data:
                return items, None, False
            if budget.received > self.max_record_bytes:  # each page under the cap, yet too much in all
                if partial_ok:  # enough to judge (failed events): kept, and marked as cut short
                    return items, None, True
                return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path,
                                        message=f"Stripe's answers to this read are larger than "
                                                f"{size_text(self.max_record_bytes)} in all pages"), False
            after = data[-1].get("id") if isinstance(data[-1], dict) else None
            if not after:
                return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path,
                                        message="a list item has no id to continue from"), False
        return items, None, True

    def _call(self, fetch: Callable[[], T], path: str, key: str, budget: _Budget) -> tuple[T | None, FetchError | None]:
        """One read, retried where retrying can help, within the record's deadline."""
        attempt = 0
        while True:
            if budget.stop.is_set():
                return None, FetchError(kind=ErrorKind.OTHER, path=path, message=_STOPPED)
            if time.monotonic() >= budget.deadline:
                return None, FetchError(kind=ErrorKind.TIMEOUT, path=path,
                                        message=f"the record's deadline of {self.record_deadline:g} s had passed")
            budget.requests += 1
            try:
                with self._http.deadline(budget.deadline):  # no answer may outlast the record's deadline
                    answer = fetch()
                budget.received += len(getattr(answer, "body", "") or "")
                return _plain(answer), None
            except ReadOnlyViolation as exc:
                return None, FetchError(kind=ErrorKind.REFUSED, message=str(exc), path=path)
            except stripe.StripeError as exc:
                error = _classify(exc, path, key)
                delay = self._retry_delay(exc, attempt)
                if delay is None or time.monotonic() + delay > budget.deadline:
                    return None, error
                log.info("retrying %s in %.1fs after %s (attempt %d)", path, delay, error.kind.value, attempt + 1)
                if self.sleep:
                    self.sleep(delay)
                else:  # a back-off that ends early once this read's answer is no longer wanted
                    budget.stop.wait(delay)
                attempt += 1

    def _retry_delay(self, exc: stripe.StripeError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if attempt >= self.max_retries:
            return None
        headers = exc.headers or {}
        should = _header(headers, "Stripe-Should-Retry")
        status = exc.http_status
        if should == "false":
            return None
        retryable = should == "true" or (isinstance(exc, stripe.APIConnectionError) and exc.should_retry) \
            or status in (409, 429) or (status is not None and status >= 500)
        if not retryable:
            return None
        backoff = min(self.backoff_cap, self.backoff_base * (2.0 ** attempt)) * (0.5 + random.random() / 2)
        retry_after = _seconds(_header(headers, "Retry-After"))
        if retry_after is not None:  # the server knows best when to come back
            return min(retry_after, 60.0)
        return backoff


# --- helpers ------------------------------------------------------------------


def _unusable(key: str) -> str | None:
    """Why a secret key cannot be sent to Stripe at all (it would not fit in a header), else None."""
    if not key:
        return "the record has no secret key (KEY003)"
    if stray_characters(key):
        return "the secret key contains whitespace or invisible characters (KEY003); Stripe was not asked with it"
    return None


def _repeats(page: list[Any], seen: set[str]) -> bool:
    """Whether a page holds an item already read; records the page's item IDs in ``seen``."""
    ids = [found for item in page if isinstance(item, dict) and isinstance(found := item.get("id"), str)]
    repeated = bool(seen.intersection(ids)) or len(set(ids)) < len(ids)
    seen.update(ids)
    return repeated


def _plain(value: Any) -> Any:
    """The answer's JSON as plain dicts: ``raw_request`` gives a StripeResponse whose ``data`` is
    the parsed body (cheaper than the SDK's StripeObject conversion, a tenth of the CPU per record)."""
    if isinstance(value, stripe.StripeResponse):
        return value.data
    return value.to_dict() if isinstance(value, stripe.StripeObject) else value


def _header(headers: Any, name: str) -> str | None:
    for k, v in dict(headers).items():
        if k.lower() == name.lower():
            return str(v).strip().lower()
    return None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


_STATUS_KIND = {401: ErrorKind.AUTHENTICATION, 403: ErrorKind.PERMISSION, 404: ErrorKind.NOT_FOUND,
                429: ErrorKind.RATE_LIMITED}


def _classify(exc: stripe.StripeError, path: str, key: str) -> FetchError:
    """A FetchError with a short, human, secret-free message."""
    status = exc.http_status
    if isinstance(exc, stripe.APIConnectionError):
        kind, message = _connection_kind(exc)
    elif status in _STATUS_KIND:
        kind, message = _STATUS_KIND[status], exc.user_message or f"HTTP {status}"
    elif status is not None and status >= 500:
        kind, message = ErrorKind.SERVER, f"HTTP {status}: {exc.user_message or 'server error'}"
    elif "Invalid response body" in (exc.user_message or ""):
        kind, message = ErrorKind.INVALID_RESPONSE, f"the answer (HTTP {status}) is not valid JSON"
    else:
        kind, message = ErrorKind.OTHER, f"HTTP {status}: {exc.user_message or type(exc).__name__}"
    message = scrub(message.replace(key, mask(key)))[:300]
    return FetchError(kind=kind, message=message, http_status=status, request_id=exc.request_id, path=path)


def _connection_kind(exc: stripe.APIConnectionError) -> tuple[ErrorKind, str]:
    cause = exc.__cause__
    if isinstance(cause, (AnswerTooSlow, AnswerRefused)):  # our own words: a deadline, a size cap, a redirect
        return (ErrorKind.TIMEOUT if isinstance(cause, AnswerTooSlow) else ErrorKind.INVALID_RESPONSE), str(cause)
    if isinstance(cause, requests.exceptions.Timeout):
        return ErrorKind.TIMEOUT, "no answer within the timeout"
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(
            cause, requests.exceptions.ChunkedEncodingError):
        return ErrorKind.CONNECTION, _connection_detail(cause)
    if cause is not None:
        return ErrorKind.INVALID_RESPONSE, f"the answer was cut short or unreadable ({type(cause).__name__})"
    return ErrorKind.CONNECTION, "network error"


_CONNECTION_DETAILS = (  # words in the cause chain -> what happened, in plain words (never the raw text)
    (("refused",), "connection refused: nothing answers at that address"),
    (("name or service not known", "nodename nor servname", "getaddrinfo", "name resolution"),
     "the host name could not be resolved"),
    (("remotedisconnected", "connection aborted", "reset by peer", "broken pipe"),
     "the connection was closed before an answer came"),
)


def _connection_detail(cause: BaseException) -> str:
    text = repr(cause).lower()
    for words, detail in _CONNECTION_DETAILS:
        if any(word in text for word in words):
            return detail
    return f"the connection failed ({type(cause).__name__})"


def _parse(build: Callable[[], T], path: str) -> tuple[T | None, FetchError | None]:
    """Build evidence from Stripe's answer; a missing field is an unreadable answer, not a crash."""
    try:
        return build(), None
    except shapes.WrongType as exc:  # our own words: which field, which type
        return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path, message=str(exc))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, FetchError(kind=ErrorKind.INVALID_RESPONSE, path=path,
                                message=f"the answer lacks an expected field ({type(exc).__name__})")


def _account(raw: Any) -> Account:
    shapes.require(raw, shapes.ACCOUNT)
    requirements = raw.get("requirements") or {}
    profile = raw.get("business_profile") or {}
    dashboard = (raw.get("settings") or {}).get("dashboard") or {}
    return Account(
        id=raw["id"],
        charges_enabled=raw.get("charges_enabled"),
        payouts_enabled=raw.get("payouts_enabled"),
        details_submitted=raw.get("details_submitted"),
        country=raw.get("country"),
        business_name=profile.get("name") or dashboard.get("display_name"),
        requirements_due=list(requirements.get("currently_due") or []),
        disabled_reason=requirements.get("disabled_reason"),
        past_due=list(requirements.get("past_due") or []),
        current_deadline=requirements.get("current_deadline"),
    )


def _endpoint(raw: Any) -> WebhookEndpoint:
    shapes.require(raw, shapes.ENDPOINT)
    return WebhookEndpoint(
        id=raw["id"], url=raw["url"], status=raw["status"], enabled_events=list(raw.get("enabled_events") or []),
        livemode=raw.get("livemode"), description=raw.get("description"), api_version=raw.get("api_version"),
        created=raw.get("created"),
    )


def _event(raw: Any) -> Event:
    shapes.require(raw, shapes.EVENT)
    return Event(id=raw["id"], type=raw["type"], created=raw["created"],
                 pending_webhooks=raw.get("pending_webhooks") or 0, livemode=raw.get("livemode"))


def _unreachable(evidence: RecordEvidence) -> FetchError | None:
    """The error of a read that found Stripe unreachable even after retries, if any."""
    return next((e for e in evidence.errors() if e.kind in (ErrorKind.CONNECTION, ErrorKind.TIMEOUT)), None)

