"""Issue 10, attacked again after the merge: what the first round of defences did not cover.

Real loopback servers and real forked processes; limits made small through parameters so
every test is bounded in time and size; no wall-clock assertions.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auditor.cli import main
from auditor.collect import stripe_api
from auditor.collect.stripe_api import StripeSource
from auditor.config import Environment, Record, Tenant
from auditor.evidence import ErrorKind, RecordEvidence
from auditor.history import stored_runs
from auditor.logs import setup_logging
from auditor.parallel import in_processes
from tests.faults.fleet import build_fleet, live_key
from tests.faults.test_signals import ROOT, children_of, running, wait_for
from tests.rules.builders import secret
from tests.stub_stripe import StubStripe, make_account, make_endpoint, make_event

KEY = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "R" * 30
TENANT = Tenant(company_id="ACME0000000000000001", name="Acme", contact=None)

Answer = Callable[[str, dict[str, list[str]]], Any]  # path, query -> the JSON body, or (status, raw bytes)


class _Stripe(ThreadingHTTPServer):
    """A loopback Stripe whose answers are functions of path and query; it counts requests per path."""

    daemon_threads = True

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                parts = urlsplit(handler.path)
                with server._lock:
                    server.requests[parts.path] = server.requests.get(parts.path, 0) + 1
                answer = server.answers[parts.path](parts.path, parse_qs(parts.query))
                status, body = answer if isinstance(answer, tuple) else (200, json.dumps(answer).encode())
                handler.send_response(status)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def __enter__(self) -> _Stripe:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _collect(server: _Stripe, **options: Any) -> RecordEvidence:
    source = StripeSource(api_base=server.url, **{"timeout": 30.0, "max_retries": 0, **options})
    return source.collect(TENANT, Record(environment=Environment.STAGE, secret_key=secret(KEY)))


def _account(path: str, query: dict[str, list[str]]) -> Any:
    return make_account("acct_1AbCdEfGhIjKlMnO", name="Acme")


def _no_events(path: str, query: dict[str, list[str]]) -> Any:
    return {"object": "list", "data": [], "has_more": False, "url": path}


def _endless_endpoint_pages(per_page: int, description: int) -> Answer:
    """Pages that always have more: new endpoint IDs on every page, each page under the size cap."""
    def page(path: str, query: dict[str, list[str]]) -> Any:
        after = query.get("starting_after", ["we_0"])[0]
        first = int(after.split("_")[1]) + 1
        data = [make_endpoint(f"we_{n}", "https://x.test", ["*"]) | {"description": "d" * description}
                for n in range(first, first + per_page)]
        return {"object": "list", "data": data, "has_more": True, "url": path}
    return page


# --- memory: many answers, each under the cap ---------------------------------------------------


def test_many_pages_each_under_the_cap_are_stopped_by_a_total_for_the_record() -> None:
    """100 pages of ~40 KB, each under a 64 KB cap, are 4 MB in all: the record's total is capped too
    (by default 100 pages of 8 MB were 800 MB of JSON, held as Python objects)."""
    answers = {"/v1/account": _account, "/v1/webhook_endpoints": _endless_endpoint_pages(10, 4000),
               "/v1/events": _no_events}
    with _Stripe(answers) as server:
        ev = _collect(server, max_answer_bytes=64 << 10, max_record_bytes=256 << 10)
        pages = server.requests["/v1/webhook_endpoints"]
    assert ev.webhook_endpoints_error is not None, f"{pages} pages read, {len(ev.webhook_endpoints)} endpoints kept"
    assert ev.webhook_endpoints_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.webhook_endpoints_error.message == "Stripe's answers to this read are larger than 256 KB in all pages"
    assert pages <= 8  # 256 KB / ~40 KB a page, and not one page more
    assert ev.account is not None  # what was read before is kept


def test_failed_events_over_the_records_total_are_kept_as_a_list_cut_short() -> None:
    """Failed events are enough to judge WH010 even when there are too many to read: a wrong signing secret
    fails every event, and big invoices make big pages; so they are kept and marked as cut short."""
    def events(path: str, query: dict[str, list[str]]) -> Any:
        after = query.get("starting_after", ["evt_0"])[0]
        first = int(after.split("_")[1]) + 1
        data = [make_event(f"evt_{n}", "invoice.paid", 1700000000) | {"data": {"object": {"memo": "m" * 4000}}}
                for n in range(first, first + 10)]
        return {"object": "list", "data": data, "has_more": True, "url": path}

    answers = {"/v1/account": _account, "/v1/webhook_endpoints": _no_events, "/v1/events": events}
    with _Stripe(answers) as server:
        ev = _collect(server, max_answer_bytes=64 << 10, max_record_bytes=256 << 10)
        pages = server.requests["/v1/events"]
    assert ev.failed_events_error is None and ev.failed_events_truncated
    assert len(ev.failed_events) == 10 * pages and pages <= 8


def test_an_endpoint_list_that_never_ends_is_an_error_not_a_complete_list(monkeypatch) -> None:
    """A cursor that always advances to new IDs: after the last page read, the list was reported as complete
    (10,000 endpoints by default; Stripe allows 16), and the rules judged a list cut off anywhere."""
    monkeypatch.setattr(stripe_api, "MAX_ENDPOINT_PAGES", 3)
    answers = {"/v1/account": _account, "/v1/webhook_endpoints": _endless_endpoint_pages(5, 0),
               "/v1/events": _no_events}
    with _Stripe(answers) as server:
        ev = _collect(server)
        pages = server.requests["/v1/webhook_endpoints"]
    assert pages == 3
    assert ev.webhook_endpoints is None
    assert ev.webhook_endpoints_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.webhook_endpoints_error.message == "the list does not end: more than 3 pages of webhook endpoints"


def test_a_page_with_more_items_than_asked_for_is_an_unreadable_answer() -> None:
    """Stripe never returns more than ``limit`` items: 5,000 tiny events in one page would be 5,000 objects."""
    def events(path: str, query: dict[str, list[str]]) -> Any:
        data = [make_event(f"evt_{n}", "invoice.paid", 1700000000) for n in range(5000)]
        return {"object": "list", "data": data, "has_more": False, "url": path}

    answers = {"/v1/account": _account, "/v1/webhook_endpoints": _no_events, "/v1/events": events}
    with _Stripe(answers) as server:
        ev = _collect(server)
    assert ev.failed_events is None
    assert ev.failed_events_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.failed_events_error.message == "a page holds 5000 items, more than the 100 asked for"


# --- bodies that are not UTF-8 ------------------------------------------------------------------


def test_an_answer_that_is_not_utf8_is_that_reads_error_and_the_other_reads_still_happen() -> None:
    """Gzip inside gzip (a misconfigured proxy): the SDK's debug log decoded the body and raised; the record's
    three reads all became 'unexpected UnicodeDecodeError' (kind other), endpoints and events never asked."""
    answers = {"/v1/account": lambda path, query: (200, gzip.compress(b'{"id": "acct_1"}')),
               "/v1/webhook_endpoints": _no_events, "/v1/events": _no_events}
    with _Stripe(answers) as server:
        ev = _collect(server)
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.account_error.message == "the answer (HTTP 200) is not valid JSON"
    assert ev.webhook_endpoints == [] and ev.failed_events == []


def test_a_server_error_page_in_latin1_is_retried_like_any_server_error() -> None:
    """A proxy's 502 page in Windows-1252 ("Gateway-Zeitüberschreitung"), then Stripe answers."""
    calls = []

    def account(path: str, query: dict[str, list[str]]) -> Any:
        calls.append(path)
        return (502, "<h1>Gateway-Zeit\u00fcberschreitung</h1>".encode("cp1252")) if len(calls) == 1 \
            else _account(path, query)

    answers = {"/v1/account": account, "/v1/webhook_endpoints": _no_events, "/v1/events": _no_events}
    with _Stripe(answers) as server:
        ev = _collect(server, max_retries=1, backoff_base=0.01)
    assert ev.errors() == [] and ev.account is not None
    assert len(calls) == 2


# --- what an answer costs beyond its cap -------------------------------------------------------------


def test_an_answer_costs_no_debug_log_formatting_when_nobody_logs_debug() -> None:
    """The SDK decoded and repr()-ed every body for its debug log, logging off or not: control characters
    and spaces (1 byte each, 4 in a repr) made a 1 MB answer cost 6 MB; now what reading it needs."""
    setup_logging(0)
    cap = 1 << 20
    body = (b"\x01 " * cap)[:cap - 100]
    answers = {"/v1/account": lambda path, query: (200, body), "/v1/webhook_endpoints": _no_events,
               "/v1/events": _no_events}
    with _Stripe(answers) as server:
        _collect(server, max_answer_bytes=cap)  # imports and pools warmed before measuring
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            ev = _collect(server, max_answer_bytes=cap)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert peak < 4.5 * cap, f"{peak / cap:.1f} times the cap held while reading one answer"


# --- a redirect that names no target -------------------------------------------------------------


def test_a_redirect_without_a_location_does_not_claim_a_target() -> None:
    """A bare 302 was reported as a redirect "to 127.0.0.1" (the API's own host): it pointed nowhere."""
    answers = {"/v1/account": lambda path, query: (302, b""), "/v1/webhook_endpoints": _no_events,
               "/v1/events": _no_events}
    with _Stripe(answers) as server:
        ev = _collect(server)
    assert ev.account_error.kind is ErrorKind.INVALID_RESPONSE
    assert ev.account_error.message.startswith(
        "Stripe answered with a redirect (HTTP 302) to no target (no Location header);")


# --- results files nested too deeply ----------------------------------------------------------------

_DEEP = '{"schema": "plenigo-stripe-audit/1", "records": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize("command", [["report", "{file}", "--format", "html", "--output", "{out}"],
                                     ["diff", "{file}", "{file}"]])
def test_a_results_file_nested_too_deeply_is_a_clear_error_not_exit_70(tmp_path, capsys, command) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(_DEEP)
    code = main([part.format(file=deep, out=tmp_path / "out") for part in command])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{deep}: not a results file of this tool (its JSON is nested too deeply)" in err
    assert "Traceback" not in err


def test_a_history_file_nested_too_deeply_is_skipped_and_the_scheduled_run_goes_on(tmp_path, capsys) -> None:
    """One hostile or corrupted file in the history folder ended every later scheduled run with exit 70."""
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=2)
    history = tmp_path / "history"
    history.mkdir()
    hostile = history / "results-20261123T060000Z-1795413600123456-4f2a9c1e.json"
    hostile.write_text(_DEEP)
    code = main(["run", "--all-tenants", "--config", str(config), "--offline", "--format", "json",
                 "--output", str(tmp_path / "out"), "--history", str(history)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "skipping unreadable history file" in err and "nested too deeply" in err
    assert (tmp_path / "out" / "results.json").is_file() and len(stored_runs(history)) == 2
    hostile.unlink()  # the suite checks every history file it finds against the schema


# --- strings that no output can encode ------------------------------------------------------------------


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_lone_surrogate_in_stripes_strings_does_not_end_the_fleets_run(tmp_path, capsys, processes) -> None:
    """JSON allows "\\ud800"; no UTF-8 output can hold it: one tenant's business name ended the run with
    exit 70 and no report for anyone (forked: 'a worker process failed')."""
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=2)
    key = live_key(world, 0)
    world[key]["account"]["business_profile"]["name"] = "Acme \udfff GmbH"
    world[key]["webhook_endpoints"][0]["description"] = "evil \ud800"
    out = tmp_path / "out"
    with StubStripe(world) as stub:
        code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                     "--format", "json,html", "--output", str(out), "--processes", processes, "--workers", "4"])
    err = capsys.readouterr().err
    assert code == 0, err
    text = (out / "results.json").read_text(encoding="utf-8")
    assert [r["status"] for r in json.loads(text)["records"]] == ["pass"] * 4
    assert '"Acme \ufffd GmbH"' in text and '"evil \ufffd"' in text  # shown as the replacement character
    assert (out / "report.html").is_file()


# --- a worker that dies in the middle of sending a result --------------------------------------------


def _dies_mid_message(i: int) -> str:
    """In a forked worker: record 1 writes the start of a result to the parent's pipe, then the process dies
    (as the OOM killer would take it while it sends a large record)."""
    if i == 1:
        pipe = next(o for o in gc.get_objects() if isinstance(o, mp_connection.Connection) and o.writable)
        os.write(pipe.fileno(), struct.pack("!i", 4096) + b"\x80\x04" + b"x" * 30)
        os._exit(9)
    return f"record {i}"


def test_a_worker_dying_in_the_middle_of_a_message_costs_only_its_own_records() -> None:
    results = dict(in_processes(6, _dies_mid_message, workers=2, processes=2, encode=str, decode=str,
                                lost=lambda i, reason: f"lost: {reason}"))
    assert sorted(results) == list(range(6))
    assert [results[i] for i in (0, 2, 4)] == ["record 0", "record 2", "record 4"]  # the other worker's
    assert all(results[i].startswith("lost: the worker process auditing this record died") for i in (1, 3, 5))


# --- the PDF layout process is part of the tree -------------------------------------------------------


def _layout_children(pid: int) -> set[int]:
    return {child for child in children_of(pid) if b"pdf_child" in _cmdline(child)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigterm_while_the_pdf_is_laid_out_ends_the_layout_process_too(tmp_path) -> None:
    """The layout runs in a separate program (python -m auditor.render.pdf_child): SIGTERM to the parent
    alone, sent as soon as that program exists, must end it as well, and leave no report."""
    config, _, _ = build_fleet(tmp_path / "fleet", tenants=40)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config),
                             "--offline", "--format", "json,pdf", "--output", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert wait_for(lambda: _layout_children(proc.pid) or proc.poll() is not None, limit=120)
        layout = _layout_children(proc.pid)
        assert layout, "the layout process was never seen"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    assert wait_for(lambda: not any(running(pid) for pid in layout), limit=30), "the layout process outlived the run"
    assert not out.exists() or list(out.iterdir()) == []
