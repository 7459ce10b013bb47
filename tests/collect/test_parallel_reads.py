"""A record's three reads (account, endpoints, events) in flight at once, merged as if made in order.

A real loopback server: it holds each answer until all three requests of the record have arrived (or a
generous give-up passed), so a collector that reads one after the other is caught by what the server saw,
never by a clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from auditor.collect.stripe_api import StripeSource
from auditor.config import Environment, Record, Tenant
from auditor.evidence import ErrorKind
from auditor.parallel import HelperThreads
from tests.rules.builders import secret
from tests.stub_stripe import make_account, make_endpoint

KEY = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "P" * 30
TENANT = Tenant(company_id="ACME0000000000000001", name="Acme", contact=None)
RECORD = Record(environment=Environment.STAGE, secret_key=secret(KEY))
GIVE_UP = 20.0  # seconds the server waits for the other reads before answering anyway


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_daemon_threads = True

    def __init__(self, behaviour: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour  # path -> "ok" | "together" (answer once all three are in) | "hold" | "drop"
        self.together = threading.Barrier(3)
        self.release = threading.Event()
        self.seen: list[str] = []
        self.met = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.seen.append(path)
        how = self.server.behaviour.get(path, "ok")
        if how == "drop":  # closes without an answer: a connection error, as an unreachable Stripe gives
            self.close_connection = True
            self.connection.close()
            return
        if how == "together":
            try:
                self.server.together.wait(GIVE_UP)
                self.server.met = True
            except threading.BrokenBarrierError:
                pass
        if how == "hold":
            self.server.release.wait(GIVE_UP)
        body = json.dumps(_answer(path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _answer(path: str) -> dict[str, Any]:
    if path == "/v1/account":
        return make_account("acct_1AbCdEfGhIjKlMnO", name="Acme")
    items = [make_endpoint("we_1", "https://x.test", ["*"])] if path == "/v1/webhook_endpoints" else []
    return {"object": "list", "data": items, "has_more": False, "url": path}


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[_Server] = []

    def start(behaviour: dict[str, str]) -> _Server:
        server = _Server(behaviour)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        server.together.abort()
        server.shutdown()
        server.server_close()


def _source(server: _Server, **options: Any) -> StripeSource:
    return StripeSource(api_base=f"http://127.0.0.1:{server.server_address[1]}", timeout=60.0, **options)


def test_a_records_three_reads_are_in_flight_at_once(serve) -> None:
    server = serve({p: "together" for p in ("/v1/account", "/v1/webhook_endpoints", "/v1/events")})
    ev = _source(server).collect(TENANT, RECORD)
    assert server.met, "the server never had the record's three requests at once"
    assert ev.errors() == [] and ev.account.id == "acct_1AbCdEfGhIjKlMnO" and ev.requests_made == 3
    assert [e.id for e in ev.webhook_endpoints] == ["we_1"] and ev.failed_events == []


def test_one_after_the_other_on_request_gives_the_same_evidence(serve) -> None:
    server = serve({})
    parallel = _source(server).collect(TENANT, RECORD)
    sequential = _source(server, parallel_reads=False).collect(TENANT, RECORD)
    assert parallel.model_dump(exclude={"collected_at", "failed_events_since"}) == \
        sequential.model_dump(exclude={"collected_at", "failed_events_since"})


def test_an_unreachable_read_does_not_wait_for_the_later_reads(serve) -> None:
    """Endpoints are dropped (unreachable) while events are held by the server: the record ends at once,
    events take the endpoints' error as if never asked, and the held request is not counted."""
    server = serve({"/v1/webhook_endpoints": "drop", "/v1/events": "hold"})
    ev = _source(server, max_retries=0).collect(TENANT, RECORD)
    assert not server.release.is_set()  # collect returned while the events answer was still held
    assert ev.account is not None and ev.account_error is None
    assert ev.webhook_endpoints_error.kind is ErrorKind.CONNECTION
    assert ev.failed_events_error == ev.webhook_endpoints_error and ev.failed_events is None
    assert ev.failed_events_since is None and ev.requests_made == 2


def test_an_unreachable_first_read_fills_every_later_one_even_if_they_were_answered(serve) -> None:
    server = serve({"/v1/account": "drop"})
    ev = _source(server, max_retries=0).collect(TENANT, RECORD)
    assert ev.account_error.kind is ErrorKind.CONNECTION
    assert ev.webhook_endpoints is None and ev.failed_events is None  # answered, but dropped: as in order
    assert ev.errors() == [ev.account_error] * 3 and ev.requests_made == 1


def test_helper_threads_grow_to_the_demand_and_are_reused() -> None:
    helpers = HelperThreads(limit=2)
    gate = threading.Event()
    first = [helpers.submit(lambda: gate.wait(GIVE_UP)) for _ in range(3)]  # the third waits for a free thread
    gate.set()
    assert [f.result(timeout=GIVE_UP) for f in first] == [True] * 3
    names = {helpers.submit(lambda: threading.current_thread().name).result(timeout=GIVE_UP) for _ in range(5)}
    assert helpers._threads == 2 and names <= {"read-1", "read-2"}


def test_helper_threads_pass_on_an_exception() -> None:
    def boom() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        HelperThreads().submit(boom).result(timeout=GIVE_UP)
