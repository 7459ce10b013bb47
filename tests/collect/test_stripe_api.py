"""The Stripe collector against Stripe's HTTP, faked with ``responses``."""

from __future__ import annotations

import logging
import re
from datetime import UTC

import pytest
import requests
import responses
import stripe

from auditor.collect.readonly import ReadOnlyHttpClient, ReadOnlyViolation
from auditor.collect.stripe_api import StripeSource, validate_api_base
from auditor.config import Environment, Record, Tenant
from auditor.evidence import ErrorKind
from tests.rules.builders import secret
from tests.stub_stripe import make_account, make_endpoint, make_event

API = "https://api.stripe.com"
KEY = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "K" * 30
TENANT = Tenant(company_id="ACME0000000000000001", name="Acme", contact=None)
RECORD = Record(environment=Environment.STAGE, secret_key=secret(KEY))


def listing(items: list, has_more: bool = False, url: str = "/v1/webhook_endpoints") -> dict:
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def stripe_error(status: int, message: str, kind: str = "invalid_request_error") -> dict:
    return {"json": {"error": {"type": kind, "message": message}}, "status": status}


def happy(rs: responses.RequestsMock, base: str = API) -> None:
    rs.get(f"{base}/v1/account", json=make_account("acct_1AbCdEfGhIjKlMnO", name="Acme"))
    rs.get(f"{base}/v1/webhook_endpoints", json=listing([make_endpoint("we_1", "https://x.test", ["*"])]))
    rs.get(f"{base}/v1/events", json=listing([make_event("evt_1", "payment_intent.succeeded", 1700000000)],
                                             url="/v1/events"))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def source(sleeps) -> StripeSource:
    return StripeSource(sleep=sleeps.append, max_retries=3)


def collect(source: StripeSource):
    return source.collect(TENANT, RECORD)


def calls_to(path: str) -> list[str]:
    """The URLs requested for one path (a record's three reads run at once, in no fixed order)."""
    return [c.request.url for c in responses.calls if c.request.url.split("?")[0] == f"{API}{path}"]


@responses.activate
def test_happy_path_reads_three_things_with_get_only(source) -> None:
    happy(responses)
    ev = collect(source)
    assert ev.account.id == "acct_1AbCdEfGhIjKlMnO" and ev.account.business_name == "Acme"
    assert [e.id for e in ev.webhook_endpoints] == ["we_1"] and ev.failed_events[0].id == "evt_1"
    assert ev.errors() == [] and ev.key_hint == "sk_test_…KKKK" and ev.requests_made == 3
    assert {c.request.method for c in responses.calls} == {"GET"}
    events_query = calls_to("/v1/events")[0]
    assert "delivery_success=false" in events_query and "created%5Bgte%5D=" in events_query
    assert all(c.request.headers["Authorization"] == f"Bearer {KEY}" for c in responses.calls)


@responses.activate
def test_pagination_over_250_endpoints(source) -> None:
    endpoints = [make_endpoint(f"we_{i:03d}", f"https://x.test/{i}", ["*"]) for i in range(250)]
    responses.get(f"{API}/v1/account", json=make_account("acct_1AbCdEfGhIjKlMnO"))
    for start in (0, 100, 200):
        query = {"limit": "100"} | ({"starting_after": f"we_{start - 1:03d}"} if start else {})
        responses.get(f"{API}/v1/webhook_endpoints", json=listing(endpoints[start:start + 100], start < 200),
                      match=[responses.matchers.query_param_matcher(query)])
    responses.get(f"{API}/v1/events", json=listing([], url="/v1/events"))
    ev = collect(source)
    assert len(ev.webhook_endpoints) == 250 and ev.webhook_endpoints[-1].id == "we_249"


@responses.activate
def test_401_rejected_key_is_an_authentication_error_everywhere(source, sleeps) -> None:
    for path in ("account", "webhook_endpoints", "events"):
        responses.get(f"{API}/v1/{path}", **stripe_error(401, "Invalid API Key provided: sk_test_****KKKK"))
    ev = collect(source)
    assert [e.kind for e in ev.errors()] == [ErrorKind.AUTHENTICATION] * 3
    assert sleeps == []  # never retried
    assert KEY not in ev.model_dump_json()


@responses.activate
def test_403_on_account_only_still_reads_webhooks(source) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account",
                      **stripe_error(403, "The provided key 'rk_test_***' does not have access to account"))
    ev = collect(source)
    assert ev.account is None and ev.account_error.kind is ErrorKind.PERMISSION
    assert ev.account_error.http_status == 403 and ev.account_error.path == "/v1/account"
    assert ev.webhook_endpoints and ev.failed_events is not None


@responses.activate
def test_404(source) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/webhook_endpoints", **stripe_error(404, "Unrecognized request URL"))
    assert collect(source).webhook_endpoints_error.kind is ErrorKind.NOT_FOUND


@responses.activate
def test_429_twice_then_success_honours_retry_after(source, sleeps) -> None:
    for _ in range(2):  # responses answers repeated registrations in order
        responses.get(f"{API}/v1/account", **stripe_error(429, "Too many requests", "rate_limit_error"),
                      headers={"Retry-After": "3"})
    happy(responses)
    ev = collect(source)
    assert ev.account is not None and ev.account_error is None
    assert sleeps == [3.0, 3.0]


@responses.activate
def test_429_forever_gives_up_after_max_retries(source, sleeps) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account", **stripe_error(429, "Too many requests", "rate_limit_error"))
    ev = collect(source)
    assert ev.account_error.kind is ErrorKind.RATE_LIMITED
    assert len([c for c in responses.calls if c.request.url.endswith("/v1/account")]) == 4  # 1 + 3 retries
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2]  # backing off


@responses.activate
def test_500_twice_then_success(source, sleeps) -> None:
    responses.get(f"{API}/v1/account", json=make_account("acct_1AbCdEfGhIjKlMnO"))
    responses.get(f"{API}/v1/webhook_endpoints", json=listing([]))
    for _ in range(2):
        responses.get(f"{API}/v1/events", **stripe_error(500, "boom", "api_error"))
    responses.get(f"{API}/v1/events", json=listing([], url="/v1/events"))
    ev = collect(source)
    assert ev.failed_events == [] and len(sleeps) == 2 and ev.requests_made == 5


@responses.activate
def test_500_forever(source, sleeps) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/events", **stripe_error(503, "down", "api_error"))
    ev = collect(source)
    assert ev.failed_events_error.kind is ErrorKind.SERVER and "503" in ev.failed_events_error.message
    assert len(sleeps) == 3 and ev.account is not None


@responses.activate
def test_stripe_should_retry_false_is_honoured(source, sleeps) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account", **stripe_error(500, "no", "api_error"),
                      headers={"Stripe-Should-Retry": "false"})
    assert collect(source).account_error.kind is ErrorKind.SERVER and sleeps == []


@responses.activate
def test_timeout_stops_the_records_other_reads(source, sleeps) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account", body=requests.exceptions.ReadTimeout("read timed out"))
    ev = collect(source)
    assert [e.kind for e in ev.errors()] == [ErrorKind.TIMEOUT] * 3
    assert len(sleeps) == 3  # retried, then the other reads were not made to wait out the same
    assert len(calls_to("/v1/account")) == 4 and ev.requests_made == 4  # the dropped reads are not counted


@responses.activate
def test_connection_error_after_a_good_read_keeps_what_was_gathered(source) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/webhook_endpoints",
                      body=requests.exceptions.ConnectionError("refused"))
    ev = collect(source)
    assert ev.account is not None
    assert ev.webhook_endpoints_error.kind is ErrorKind.CONNECTION
    assert ev.failed_events_error.kind is ErrorKind.CONNECTION


@responses.activate
def test_malformed_json_and_wrong_shape(source) -> None:
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account", body="{not json", status=200)
    responses.replace(responses.GET, f"{API}/v1/webhook_endpoints", json={"object": "list", "data": "nope"})
    responses.replace(responses.GET, f"{API}/v1/events", json=listing([{"id": "evt_1"}], url="/v1/events"))
    ev = collect(source)
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.webhook_endpoints_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.failed_events_error.kind is ErrorKind.INVALID_RESPONSE


@responses.activate
def test_api_base_is_used() -> None:
    base = "http://127.0.0.1:12111"
    happy(responses, base)
    ev = StripeSource(api_base=base).collect(TENANT, RECORD)
    assert ev.errors() == [] and ev.api_base == base


@responses.activate
@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH"])
def test_read_only_guard_refuses_before_sending(method) -> None:
    client = ReadOnlyHttpClient()
    with pytest.raises(ReadOnlyViolation, match=f"refused {method} /v1/webhook_endpoints"):
        client.request(method.lower(), f"{API}/v1/webhook_endpoints", {}, "url=x")
    with pytest.raises(ReadOnlyViolation):
        client.request_with_retries(method, f"{API}/v1/account", {}, None)
    assert len(responses.calls) == 0


@responses.activate
def test_sdk_write_through_the_guarded_client_never_leaves() -> None:
    client = stripe.StripeClient(KEY, http_client=ReadOnlyHttpClient())
    with pytest.raises(ReadOnlyViolation):
        client.v1.webhook_endpoints.create(params={"url": "https://evil.test", "enabled_events": ["*"]})
    assert len(responses.calls) == 0


def test_no_key_or_malformed_key_is_not_asked() -> None:
    source = StripeSource()
    assert "no secret key" in source.collect(TENANT, Record(environment=Environment.LIVE)).not_asked
    bad = Record(environment=Environment.LIVE, secret_key=secret(KEY + "\n"))
    assert "whitespace" in source.collect(TENANT, bad).not_asked


@responses.activate
def test_no_secret_in_evidence_or_debug_logs(source, caplog) -> None:
    from auditor.logs import setup_logging

    setup_logging(2)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("stripe").setLevel(logging.DEBUG)
    responses.get(f"{API}/v1/account", **stripe_error(401, f"Invalid API Key provided: {KEY}"))
    responses.get(f"{API}/v1/webhook_endpoints", **stripe_error(500, f"echo {KEY}", "api_error"))
    responses.get(f"{API}/v1/events", **stripe_error(429, "slow", "rate_limit_error"))
    ev = collect(source)
    assert KEY not in ev.model_dump_json()
    assert "sk_test_…KKKK" in ev.account_error.message
    formatted = "\n".join(logging.getLogger().handlers[-1].format(r) for r in caplog.records)
    assert KEY not in formatted
    setup_logging(0)


@pytest.mark.parametrize(
    ("url", "ok"),
    [(None, True), ("https://api.stripe.com/", True), ("http://127.0.0.1:12111", True), ("http://localhost:1", True),
     ("http://[::1]:8080", True), ("http://stripe-mock.internal:12111", False), ("http://10.0.0.5", False),
     ("ftp://x", False), ("not a url", False),
     # parsers disagree on these: requests would connect to 192.0.2.2 in clear, urlsplit sees 127.0.0.1
     ("http://192.0.2.2:12197\\@127.0.0.1:12199", False), ("http://user@127.0.0.1:1", False),
     ("http://127.0.0.1:1/?x=1", False), ("http://127.0.0.1:1/#x", False), ("http://127.0.0.1 :1", False)],
)
def test_validate_api_base(url, ok) -> None:
    if ok:
        assert re.match(r"https?://", validate_api_base(url)) and not validate_api_base(url).endswith("/")
    else:
        with pytest.raises(ValueError):
            validate_api_base(url)


# The fields of Stripe's published objects (API reference examples and openapi/fixtures3.json):
# the payloads above must have Stripe's shape, or what passes here could fail against Stripe.
STRIPE_FIELDS = {
    "webhook_endpoint": {"id", "object", "api_version", "application", "created", "description", "enabled_events",
                         "livemode", "metadata", "status", "url"},
    "event": {"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request", "type"},
    "account": {"id", "object", "business_profile", "business_type", "capabilities", "charges_enabled", "country",
                "created", "default_currency", "details_submitted", "email", "metadata", "payouts_enabled",
                "requirements", "settings", "type"},
}


def test_test_payloads_have_the_fields_of_stripes_objects() -> None:
    built = {"webhook_endpoint": make_endpoint("we_1", "https://x.test", ["*"]),
             "event": make_event("evt_1", "payment_intent.succeeded", 1700000000),
             "account": make_account("acct_1AbCdEfGhIjKlMnO")}
    for kind, payload in built.items():
        assert payload["object"] == kind
        assert set(payload) == STRIPE_FIELDS[kind], kind


@responses.activate
def test_fields_stripe_adds_later_do_not_break_the_audit(source) -> None:
    """Stripe adds fields to its objects without a new API version; the collector must ignore them."""
    account = {**make_account("acct_1AbCdEfGhIjKlMnO"), "controller": {"type": "account"}, "future_field": [1]}
    endpoint = {**make_endpoint("we_1", "https://x.test", ["*"]), "secret_rotation": None, "future_field": {}}
    event = {**make_event("evt_1", "payment_intent.succeeded", 1700000000), "context": "acct_x", "future": 1}
    responses.get(f"{API}/v1/account", json=account)
    responses.get(f"{API}/v1/webhook_endpoints", json=listing([endpoint]))
    responses.get(f"{API}/v1/events", json=listing([event], url="/v1/events"))
    ev = collect(source)
    assert ev.errors() == [] and ev.account.charges_enabled is True
    assert [e.id for e in ev.webhook_endpoints] == ["we_1"] and [e.id for e in ev.failed_events] == ["evt_1"]


def test_proxies_honour_no_proxy_and_never_carry_plain_http(monkeypatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.corp.test:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.corp.test:3128")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.setenv("no_proxy", "stripe-mock.internal")
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert ReadOnlyHttpClient(api_base="https://api.stripe.com")._proxy == {
        "http": "http://proxy.corp.test:3128", "https": "http://proxy.corp.test:3128"}
    assert not ReadOnlyHttpClient(api_base="https://stripe-mock.internal:12111")._proxy  # NO_PROXY names it
    assert not ReadOnlyHttpClient(api_base="http://127.0.0.1:12111")._proxy  # keys in clear: never via a proxy
    assert not ReadOnlyHttpClient(api_base="HTTP://127.0.0.1:12111")._proxy  # decided on the parsed scheme


@responses.activate
def test_409_lock_conflict_is_retried(source, sleeps) -> None:
    """Stripe answers 409 when another request holds the object's lock; a read succeeds when tried again."""
    responses.get(f"{API}/v1/account", **stripe_error(409, "lock_timeout"))
    happy(responses)
    ev = collect(source)
    assert ev.account is not None and ev.account_error is None and len(sleeps) == 1


@responses.activate
def test_stripe_should_retry_false_is_not_retried(source, sleeps) -> None:
    responses.get(f"{API}/v1/account", **stripe_error(500, "do not retry", "api_error"),
                  headers={"Stripe-Should-Retry": "false"})
    happy(responses)
    ev = collect(source)
    assert ev.account_error.kind is ErrorKind.SERVER and sleeps == []


@responses.activate
def test_record_deadline_stops_retrying(sleeps) -> None:
    """A record may not take longer than its deadline: a retry that would end past it is not made."""
    source = StripeSource(sleep=sleeps.append, max_retries=10, record_deadline=5.0)
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account", **stripe_error(429, "slow down", "rate_limit_error"),
                      headers={"Retry-After": "30"})
    ev = collect(source)
    assert ev.account_error.kind is ErrorKind.RATE_LIMITED and sleeps == []  # 30 s would pass the 5 s deadline
    assert ev.webhook_endpoints is not None  # the record's other reads still happen


@responses.activate
def test_delivery_window_sets_the_events_query(sleeps) -> None:
    from datetime import datetime

    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    source = StripeSource(sleep=sleeps.append, delivery_window_days=2, now=lambda: now)
    happy(responses)
    ev = collect(source)
    since = int(now.timestamp()) - 2 * 86400
    assert f"created%5Bgte%5D={since}" in calls_to("/v1/events")[0]
    assert ev.failed_events_since == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@responses.activate
def test_no_attempt_starts_once_the_records_deadline_has_passed() -> None:
    """A back-off can overshoot on a loaded machine (here: sleeps 0.3 s when asked for 0 s); the record's
    0.2 s deadline has then passed and no further request may be sent."""
    import time

    source = StripeSource(sleep=lambda _: time.sleep(0.3), max_retries=3, record_deadline=0.2)
    happy(responses)
    responses.replace(responses.GET, f"{API}/v1/account", **stripe_error(429, "slow down", "rate_limit_error"),
                      headers={"Retry-After": "0"})
    ev = collect(source)
    assert ev.account_error.kind is ErrorKind.TIMEOUT
    assert ev.account_error.message == "the record's deadline of 0.2 s had passed"
    assert len(calls_to("/v1/account")) == 1
