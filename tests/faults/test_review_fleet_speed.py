"""Review of the fleet-speed rewrite: a spooled, forked run writes what a one-thread run writes, byte for byte.

A spooled fleet now keeps each record's facts and its indent=2 JSON as the
worker made it, and the summary, the exit code, the table and results.json read
those instead of decoding the records. These tests audit one hostile fleet
(errors, info-only failures, another tenant's endpoint, a tenant without a live
record, failed deliveries, a rejected key) through ``audit run`` four ways: one
thread holding a list, forked workers holding a list, threads into the spool and
forked workers into the spool, and compare every file and the table, with
waivers, ``--severity``/``--rule`` filters, ``--show-pass``, every ``--fail-on``
and ``audit report`` re-rendering the saved results.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor import audit as audit_module
from auditor.app import fleet as fleet_module
from auditor.cli import main
from auditor.config import Environment
from auditor.results import RecordFacts, RecordResult, RunResult
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from tests.faults.fleet import build_fleet, company_id, live_key
from tests.stub_stripe import StubStripe, make_account, make_endpoint, make_event

TENANTS = 19  # one of each kind below
MODES = {  # name: (--workers, --processes, spooled)
    "one thread, a list": (1, 1, False),
    "forked, a list": (6, 2, False),
    "threads, spooled": (6, 1, True),
    "forked, spooled": (6, 2, True),
}
_VOLATILE = [
    (re.compile(r'"(generated_at|collected_at|failed_events_since)": "[^"]*"'), r'"\1": "…"'),
    (re.compile(r'"duration_seconds": [0-9.e+-]+'), '"duration_seconds": 0'),
    (re.compile(r'"request_id": "[^"]*"'), '"request_id": "…"'),
    (re.compile(r"req_stub\d+"), "req_…"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?( ?UTC|Z)?"), "TIME"),
    (re.compile(r'(duration_seconds|time)="[0-9.]+"'), r'\1="0"'),
    (re.compile(r"in \d+(\.\d+)? ?s\b"), "in 0 s"),
    (re.compile(r"(_timestamp_seconds|_duration_seconds) [0-9.e+]+"), r"\1 0"),
]


_PINNED = [
    (re.compile(r'"(generated_at|collected_at|failed_events_since)": "[^"]*"'), r'"\1": "2026-01-01T00:00:00Z"'),
    (re.compile(r'"duration_seconds": [0-9.e+-]+'), '"duration_seconds": 1.0'),
    (re.compile(r'"request_id": "req_stub\d+"'), '"request_id": "req_stub"'),
]


def _pinned(text: str) -> str:
    """A results.json with its times and the stub's request numbers fixed: still valid, and comparable."""
    for pattern, replacement in _PINNED:
        text = pattern.sub(replacement, text)
    return text


def _normal(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def hostile_fleet(directory: Path, tenants: int = TENANTS) -> tuple[Path, dict[str, dict[str, Any]], Path]:
    """A fleet in which nearly every tenant is wrong in its own way, and a waiver file for two of them."""
    config, world, _ = build_fleet(directory, tenants=tenants, seed=11)
    keys = list(world)
    now = int(time.time())

    def live(i: int) -> dict[str, Any]:
        return world[live_key(world, i)]

    def endpoint(i: int) -> dict[str, Any]:
        return live(i)["webhook_endpoints"][0]

    live(1)["faults"] = {"status_forever": {"/v1/account": 403}}  # error record
    live(2)["faults"] = {"status_forever": {"/v1/events": 500}}  # error record
    live(3)["webhook_endpoints"] = []  # WH002
    endpoint(4)["url"] = callback_url(company_id(5), Environment.LIVE)  # another tenant's ID
    endpoint(5)["enabled_events"] = list(REQUIRED_EVENTS) + ["customer.created"]  # WH007 only: info
    endpoint(6)["status"] = "disabled"
    live(7)["webhook_endpoints"].append(dict(endpoint(7), id="we_second_enabled_one"))  # WH008
    live(8)["events"] = [make_event("evt_failed_delivery", "charge.dispute.created", now - 3600, livemode=True)]
    live(9)["account"] = make_account(live(9)["account"]["id"], charges=False, details=False, name="Nine")
    del world[live_key(world, 10)]  # the live key is rejected (401)
    endpoint(11)["url"] += "/"
    endpoint(12)["livemode"] = False
    live(13)["faults"] = {"/v1/account": [429], "headers": {"Retry-After": "0"}}  # retried, then fine
    world[keys[2 * 14]]["webhook_endpoints"][0]["enabled_events"] = ["*", "customer.created"]  # stage, info
    live(15)["webhook_endpoints"] = [make_endpoint("we_other", "https://erp.example/webhooks/plenigo", ["*"],
                                                   livemode=True)] + live(15)["webhook_endpoints"]
    live(16)["account"] = make_account(live(16)["account"]["id"], payouts=False, name="Sixteen é ✓ <b>")

    text = config.read_text()
    blocks = text.split("[[tenants]]")
    # tenant 17 has not gone live; tenant 18's signing secret is written into the file
    blocks[18] = blocks[18].split("[tenants.live]")[0]
    blocks[19] = re.sub(r'signing_secret = \{ file = "([^"]+)" \}',
                        lambda m: f'signing_secret = "{(directory / m.group(1)).read_text().strip()}"', blocks[19],
                        count=1)
    for i in (1, 4, 5, 8, 16, 17):  # contacts; tenant 8's is two addresses: its own message is refused
        contact = "a@t8.test, b@t8.test" if i == 8 else f"pay@t{i}.test"
        blocks[i + 1] = blocks[i + 1].replace(f'name = "Fleet Tenant {i}"\n',
                                              f'name = "Fleet Tenant {i}"\ncontact = "{contact}"\n', 1)
    config.write_text("[[tenants]]".join(blocks))

    until = (date.today() + timedelta(days=60)).isoformat()
    waivers = directory / "waivers.toml"
    waivers.write_text(
        f'[[waivers]]\nrule = "WH004"\ncompany_id = "{company_id(4)}"\nenvironment = "live"\nreason = "moving"\n'
        f'approved_by = "ops"\nexpires = {until}\n\n'
        f'[[waivers]]\nrule = "ACC005"\ncompany_id = "{company_id(16)}"\nreason = "KYC pending"\n'
        f'approved_by = "ops"\nexpires = {until}\n\n'
        f'[[waivers]]\nrule = "WH007"\ncompany_id = "*"\nreason = "extra events are fine"\n'
        f'approved_by = "ops"\nexpires = {until}\n')
    return config, world, waivers


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Any:
    directory = tmp_path_factory.mktemp("review_fleet")
    config, world, waivers = hostile_fleet(directory)
    with StubStripe(world) as stub:
        yield config, waivers, stub


def audit(fleet: Any, out: Path, mode: str, *extra: str, formats: str = "table,json,junit,csv,prometheus",
          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict[str, str]]:
    """``audit run`` in this process, in one of MODES: the exit code, the table, and every file written."""
    config, _, stub = fleet
    workers, processes, spooled = MODES[mode]
    monkeypatch.setattr(fleet_module, "AuditPlan",
                        functools.partial(audit_module.AuditPlan, spool_above=0 if spooled else 10**9))
    capsys.readouterr()
    stub._fault_progress.clear()  # each run meets the same 429 first
    code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url, "--retries", "1",
                 "--workers", str(workers), "--processes", str(processes), "--format", formats,
                 "--output", str(out), "--quiet", "--no-color", *extra])
    table = capsys.readouterr().out
    files = {p.name: _normal(p.read_text(encoding="utf-8")) for p in sorted(out.iterdir()) if p.is_file()}
    return code, _normal(table), files


ARGUMENTS = {
    "plain": [],
    "waivers, show pass": ["--waivers", "WAIVERS", "--show-pass"],
    "severity high, fail on critical": ["--severity", "high", "--fail-on", "critical"],
    "rule WH007 (info only), fail on info, live only": ["--rule", "WH007", "--fail-on", "info", "--env", "live"],
    "rules and waivers, show pass": ["--rule", "WH004", "--rule", "events-extra", "--rule", "ACC003", "--waivers",
                                     "WAIVERS", "--severity", "info", "--show-pass"],
}


@pytest.mark.parametrize("arguments", list(ARGUMENTS))
def test_every_mode_writes_what_one_thread_writes(fleet, tmp_path, monkeypatch, capsys, arguments) -> None:
    extra = [str(fleet[1]) if a == "WAIVERS" else a for a in ARGUMENTS[arguments]]
    seen = {mode: audit(fleet, tmp_path / str(n), mode, *extra, monkeypatch=monkeypatch, capsys=capsys)
            for n, mode in enumerate(MODES)}
    reference = seen["one thread, a list"]
    assert reference[0] in (0, 1, 3) and "results.json" in reference[2]
    for mode, outcome in seen.items():
        assert outcome[0] == reference[0], mode
        assert outcome[1] == reference[1], mode
        assert outcome[2] == reference[2], mode


def test_the_fleet_is_as_hostile_as_meant(fleet, tmp_path, monkeypatch, capsys) -> None:
    """The comparisons above are worth something only if the run holds each kind of record."""
    code, _, files = audit(fleet, tmp_path, "forked, spooled", "--waivers", str(fleet[1]),
                               monkeypatch=monkeypatch, capsys=capsys)
    run = json.loads(files["results.json"])
    statuses = {(r["company_id"], r["environment"]): r["status"] for r in run["records"]}
    checks = {(r["company_id"], r["environment"]): {c["rule"]: c["status"] for c in r["checks"]}
              for r in run["records"]}
    live = {i: (company_id(i), "live") for i in range(TENANTS)}
    assert code == 1 and run["summary"]["records"] == 2 * TENANTS - 1
    assert statuses[live[1]] == statuses[live[2]] == statuses[live[10]] == "error"
    assert checks[live[4]]["WH004"] == "waived" and checks[live[5]]["WH007"] == "waived"
    assert checks[live[3]]["WH002"] == "fail" and checks[live[8]]["WH010"] == "fail"
    assert checks[(company_id(18), "stage")]["KEY007"] == "fail" and (company_id(17), "live") not in statuses
    assert run["summary"]["pass"] and run["summary"]["fail"] and run["summary"]["error"] == 3


def test_a_saved_spooled_run_renders_as_a_saved_list_run(fleet, tmp_path, monkeypatch, capsys) -> None:
    """``audit report results.json``: what a spooled run saved renders the same reports, and the saved files
    are byte for byte those of the list run (times and the stub's request numbers aside)."""
    rendered = {}
    for mode in ("one thread, a list", "forked, spooled"):
        out = tmp_path / mode.replace(" ", "_").replace(",", "")
        audit(fleet, out, mode, "--waivers", str(fleet[1]), formats="json", monkeypatch=monkeypatch, capsys=capsys)
        saved = out / "results.json"
        saved.write_text(_pinned(saved.read_text(encoding="utf-8")), encoding="utf-8")
        again = out / "again"
        assert main(["report", str(saved), "--format", "html,json,junit,prometheus", "--output", str(again)]) == 0
        rendered[mode] = {p.name: p.read_bytes() for p in sorted(again.iterdir())}
        rendered[mode]["saved"] = saved.read_bytes()
    assert rendered["forked, spooled"] == rendered["one thread, a list"]
    assert len(rendered["forked, spooled"]) >= 4


def test_the_real_threshold_spools_and_agrees_with_its_records(tmp_path, monkeypatch, capsys) -> None:
    """201 tenants, offline, the last without a live record: 401 records, over the default 400, so the run spools
    without being told to; its summary, exit code and table are those its records give when decoded."""
    config, _, _ = build_fleet(tmp_path / "big", tenants=201, seed=3)
    text = config.read_text()
    text = text.replace('[tenants.live]\naccount_id = "acct_1', '[tenants.live]\naccount_id = "acct_ 1', 3)
    config.write_text(text[:text.rindex("[tenants.live]")])  # TEN001 (info) fails on its stage record
    kept: list[str] = []
    real_run_audit = fleet_module.run_audit

    def run_audit(*args: Any, **kwargs: Any) -> RunResult:
        run = real_run_audit(*args, **kwargs)
        kept.append(type(run.records).__name__)
        return run

    monkeypatch.setattr(fleet_module, "run_audit", run_audit)
    capsys.readouterr()
    with tempfile.TemporaryDirectory() as out:  # not in tmp_path: the suite's schema check of 4 MB took 4 s
        code = main(["run", "--all-tenants", "--config", str(config), "--offline", "--workers", "8", "--processes",
                     "2", "--format", "table,json", "--output", out, "--quiet", "--no-color"])
        table = capsys.readouterr().out
        run = RunResult.from_json((Path(out) / "results.json").read_text())
    assert kept == ["RecordSpool"]
    saved_summary = dict(run.summary)
    run.summarise()  # from the decoded records
    assert saved_summary == run.summary == {"records": 401, "pass": 395, "fail": 6, "error": 0}
    assert code == run.exit_code() == 1
    assert "395 records passed (1 with info findings only); --show-pass lists them" in table


def test_a_records_indented_json_survives_the_round_trip_a_decode_made(fleet, tmp_path, monkeypatch, capsys) -> None:
    """The spool now keeps the worker's own ``model_dump_json(indent=2)``; before, it kept compact JSON
    and results.json dumped the decoded record. Both texts must be one, for every kind of record."""
    captured: list[RecordResult] = []
    real = audit_module.dumped

    def dumped(record: RecordResult) -> tuple[str, RecordFacts]:
        captured.append(record)
        return real(record)

    monkeypatch.setattr(audit_module, "dumped", dumped)
    audit(fleet, tmp_path, "threads, spooled", "--waivers", str(fleet[1]), formats="json",
          monkeypatch=monkeypatch, capsys=capsys)
    assert len(captured) == 2 * TENANTS - 1
    for record in captured:
        again = RecordResult.model_validate_json(record.model_dump_json())
        assert again.model_dump_json(indent=2) == record.model_dump_json(indent=2)
        assert RecordFacts.of(again) == RecordFacts.of(record)


def test_the_html_report_of_a_spooled_run_is_that_of_one_thread(fleet, tmp_path, monkeypatch, capsys) -> None:
    """The report ranks records once and looked the ranks up by ``id()``: a spool decodes new objects on each
    pass, whose ids are those of records freed a moment before, so rows took other records' ranks."""
    reports = {mode: audit(fleet, tmp_path / str(n), mode, "--waivers", str(fleet[1]), formats="html",
                           monkeypatch=monkeypatch, capsys=capsys)[2]["report.html"]
               for n, mode in enumerate(["one thread, a list", "threads, spooled", "forked, spooled"])}
    assert reports["threads, spooled"] == reports["one thread, a list"]
    assert reports["forked, spooled"] == reports["one thread, a list"]


def test_the_mails_of_a_spooled_run_are_those_of_one_thread(fleet, tmp_path, monkeypatch, capsys) -> None:
    """The operations mail and each contact's own mail (``--email-tenant-contacts``, whose audited tenants
    now come from the spool's facts): the same messages, parts and attachments (here the HTML the PDFs
    are laid out from), and the same refusal of a malformed contact (exit code 5)."""
    from email import message_from_bytes, policy

    import auditor.app.delivery as delivery
    import auditor.mail as mail
    import auditor.render.pdf as pdf
    from auditor.render import RenderOptions, get_renderer

    sent: list[bytes] = []

    def send(messages: list[Any], smtp: Any) -> Any:
        sent.extend(m.as_bytes() for m in messages)
        report = mail.SendReport(len(messages))
        report.sent = len(messages)
        return report

    def laid_out(runs: Any, options: RenderOptions, processes: int | None = None, html_of: Any = None) -> Any:
        return (html_of(run, options).encode("utf-8") for run in runs)

    monkeypatch.setattr(mail, "send", send)
    monkeypatch.setattr(pdf, "pdfs_isolated", laid_out)
    monkeypatch.setattr(delivery, "operations_pdf", lambda run, previous, written: get_renderer("html").render(
        run, RenderOptions(previous=previous)))
    seen = {}
    for n, mode in enumerate(["one thread, a list", "forked, spooled"]):
        sent.clear()
        code, _, _ = audit(fleet, tmp_path / str(n), mode, "--waivers", str(fleet[1]), "--email-to", "ops@x.test",
                           "--email-tenant-contacts", formats="json", monkeypatch=monkeypatch, capsys=capsys)
        messages = []
        for raw in sent:
            message = message_from_bytes(raw, policy=policy.default)
            parts = [(part.get_content_type(), _normal(part.get_payload(decode=True).decode("utf-8")))
                     for part in message.walk() if not part.is_multipart()]
            messages.append((message["Subject"], message["To"], parts))
        seen[mode] = code, messages
    assert seen["forked, spooled"] == seen["one thread, a list"]
    code, messages = seen["one thread, a list"]
    assert code == 5 and [to for _, to, _ in messages] == ["ops@x.test"] + [f"pay@t{i}.test" for i in (1, 4, 5, 16, 17)]
