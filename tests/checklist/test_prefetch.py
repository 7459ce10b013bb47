"""The checklist asks Stripe before loading the engine, and a prefetched read is audited like any other."""

from __future__ import annotations

import contextvars
import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from auditor import config as config_module
from auditor import logcontext
from auditor.audit import audit_record
from auditor.cli import main
from auditor.collect.prefetch import prefetch
from auditor.collect.sending import SENDING, note_sending
from auditor.collect.stripe_api import StripeSource
from auditor.config import EARLY_FROM, Environment, Record, Tenant, early_tenant, load_tenants
from auditor.evidence import RecordEvidence
from auditor.rules.base import FleetIndex, Settings
from tests.faults.fleet import build_fleet, company_id
from tests.stub_stripe import StubStripe

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 300  # seconds: only a hung child reaches it

# Runs `audit checklist` and notes, each time a request is about to be sent, which of the engine's modules were
# loaded. The head start's safety cap is lifted so that only the product's ordering decides, however loaded the
# machine (a socket's connect was watched before: it comes a moment after that note, and the engine could win it).
WATCHED = """
import json, sys
import auditor.collect.prefetch as prefetch
import auditor.collect.readonly as readonly
prefetch.HEAD_START_CAP = 600
seen = []
noted = readonly.note_sending
def note_sending():
    seen.append(sorted(m for m in ("auditor.audit", "auditor.evaluate", "auditor.checklist",
                                   "auditor.rules.account", "auditor.rules.webhook") if m in sys.modules))
    noted()
readonly.note_sending = note_sending
from auditor.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded_at_each_send": seen}))
"""


def test_stripe_is_asked_before_the_engine_and_catalogue_are_loaded(tmp_path) -> None:
    config, world, secrets = build_fleet(tmp_path / "fleet", 1)
    with StubStripe(world) as stub:
        argv = ["checklist", "--tenant", company_id(0), "--env", "live", "--config", str(config),
                "--stripe-api-base", stub.url]
        done = subprocess.run([sys.executable, "-c", WATCHED, *argv], capture_output=True, text=True,
                              timeout=HANG_GUARD, cwd=ROOT)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, done.stdout + done.stderr  # READY: the reads answered and were judged
    assert report["loaded_at_each_send"] == [[], [], []]  # loaded while Stripe answered, not before it was asked
    assert "VERDICT: READY" in done.stdout
    assert not any(secret in done.stdout + done.stderr for secret in secrets)


class _Source:
    """An evidence source that sends its requests at once, notes the log context it ran in, and waits to be
    released before it answers (or raises)."""

    reads_at_once = 2

    def __init__(self, fail: BaseException | None = None):
        self.fail = fail
        self.release = threading.Event()
        self.context: object = None

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        self.context = logcontext._CURRENT.get()
        helper = threading.Thread(target=contextvars.copy_context().run, args=(note_sending,))  # as the reads run
        helper.start()
        helper.join()
        note_sending()
        assert self.release.wait(HANG_GUARD)
        if self.fail:
            raise self.fail
        return RecordEvidence(company_id=tenant.company_id, environment=record.environment.value, not_asked="test")


@pytest.fixture
def tenant(tmp_path) -> Tenant:
    config, _, _ = build_fleet(tmp_path / "fleet", 1)
    return load_tenants(config)[0]


def test_prefetch_returns_once_the_requests_are_sent_in_the_records_log_context(tenant) -> None:
    record = tenant.record(Environment.LIVE)
    assert record is not None
    source = _Source()
    fetched = prefetch(source, tenant, record)  # returns while the answers are still awaited
    assert fetched.in_flight.is_set() and not source.release.is_set()
    assert SENDING.get() is None  # the caller's own requests are not counted
    source.release.set()
    evidence = fetched.collect(tenant, record)
    assert (evidence.company_id, evidence.environment, evidence.not_asked) == (tenant.company_id, "live", "test")
    assert source.context == (tenant.company_id, "live")  # its log lines name the record


def test_a_failing_read_is_that_records_error_as_without_prefetch(tenant) -> None:
    record = tenant.record(Environment.LIVE)
    assert record is not None
    source = _Source(fail=RuntimeError("boom"))
    source.release.set()
    result = audit_record(tenant, record, prefetch(source, tenant, record), FleetIndex.build([tenant]), Settings())
    assert result.status.value == "error"
    assert result.error is not None and "RuntimeError while asking Stripe" in result.error


def test_a_prefetched_source_answers_for_its_own_record_only(tenant) -> None:
    live, stage = tenant.record(Environment.LIVE), tenant.record(Environment.STAGE)
    assert live is not None and stage is not None
    source = _Source()
    source.release.set()
    fetched = prefetch(source, tenant, live)
    with pytest.raises(ValueError, match="one record only"):
        fetched.collect(tenant, stage)
    assert fetched.collect(tenant, live).environment == "live"


class _Silent:
    """A source that sends nothing (saved evidence, --offline): done at once."""

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        return RecordEvidence(company_id=tenant.company_id, environment=record.environment.value)


def test_a_source_that_sends_nothing_is_waited_for_only_until_it_is_done(tenant) -> None:
    record = tenant.record(Environment.STAGE)
    assert record is not None
    fetched = prefetch(_Silent(), tenant, record)
    assert fetched.in_flight.is_set()
    assert fetched.collect(tenant, record).environment == "stage"


def test_the_stripe_source_says_how_many_requests_start_at_once() -> None:
    assert StripeSource(api_base="http://127.0.0.1:9").reads_at_once == 3
    assert StripeSource(api_base="http://127.0.0.1:9", parallel_reads=False).reads_at_once == 1


# --- a large tenant file: the tenant's reads begin before the whole file is loaded ---------------------------

LARGE = 700  # tenants: over config.EARLY_FROM characters


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[Path, dict, list[str]]:
    return build_fleet(tmp_path_factory.mktemp("large"), LARGE)


def test_the_early_tenant_is_the_one_the_whole_load_gives(large) -> None:
    config, _, _ = large
    assert config.stat().st_size > EARLY_FROM
    whole = {t.company_id: t for t in load_tenants(config)}
    for index in (0, 1, LARGE // 2, LARGE - 1):
        early = early_tenant(config, company_id(index))
        assert early == whole[company_id(index)]


def _edited(config: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = config.read_text()
    assert old in text
    edited = tmp_path / "tenants.toml"
    edited.write_text(text.replace(old, new, 1))
    return edited


@pytest.mark.parametrize(("old", "new"), [
    ('name = "Fleet Tenant 5"', f'name = "{company_id(7)}"'),  # the ID written twice
    (f'company_id = "{company_id(7)}"', f"company_id = '{company_id(7)}'"),  # a literal string: not searched
    (f'company_id = "{company_id(7)}"', f'company_id = "{company_id(7)}"\nlive = 7'),  # a block that fails
    ('[[tenants]]\ncompany_id = "T000000000FLEET00000"', '# a comment first\ntenants = []\n[[tenants]]\n'
                                                         'company_id = "T000000000FLEET00000"'),  # not only tenants
])
def test_no_early_tenant_unless_its_block_is_certain(large, tmp_path, old, new) -> None:
    config, _, _ = large
    assert early_tenant(_edited(config, tmp_path, old, new), company_id(7)) is None


def test_no_early_tenant_from_a_small_file_a_folder_an_unknown_id_or_a_vault_command(large, tmp_path) -> None:
    config, _, _ = large
    small, _, _ = build_fleet(tmp_path / "small", 3)
    assert early_tenant(small, company_id(1)) is None
    assert early_tenant(config.parent, company_id(1)) is None
    assert early_tenant(config, "NOSUCHTENANT00000000") is None
    block = f'secret_key = {{ file = "secrets/{company_id(7)}_live_sk" }}'
    vault = _edited(config, tmp_path, block, 'secret_key = { command = ["printf", "sk_live_x"] }')
    assert early_tenant(vault, company_id(7)) is None


def _checklist_run(config: Path, url: str, capsys) -> tuple[int, str]:
    code = main(["checklist", "--tenant", company_id(3), "--env", "live", "--config", str(config),
                 "--stripe-api-base", url])
    out = capsys.readouterr().out
    return code, "\n".join(line for line in out.splitlines() if not line.startswith("checked "))


def test_a_large_file_gives_the_checklist_it_gave_before(large, monkeypatch, capsys) -> None:
    config, world, secrets = large
    with StubStripe(world) as stub:
        early = _checklist_run(config, stub.url, capsys)
        monkeypatch.setattr(config_module, "EARLY_FROM", 10**12)
        whole = _checklist_run(config, stub.url, capsys)
    assert early == whole and early[0] == 0
    assert not any(secret in early[1] for secret in secrets)


def test_a_broken_tenant_elsewhere_in_the_file_still_stops_the_checklist(large, tmp_path, capsys) -> None:
    config, world, _ = large
    broken = _edited(config, tmp_path, f'company_id = "{company_id(600)}"', 'company_id = "not valid!"')
    with StubStripe(world) as stub:
        code = main(["checklist", "--tenant", company_id(3), "--env", "live", "--config", str(broken),
                     "--stripe-api-base", stub.url])
    err = capsys.readouterr().err
    assert code == 2 and "not valid!" in err


def test_answers_read_for_another_record_are_never_used(large, monkeypatch, capsys) -> None:
    """Should the early tenant differ from the whole load's (it cannot, by construction), the record is read
    again with the whole load's values: here the early one holds the stage key, whose answers would fail KEY004."""
    config, world, _ = large
    real = {t.company_id: t for t in load_tenants(config)}[company_id(3)]
    live, stage = real.record(Environment.LIVE), real.record(Environment.STAGE)
    assert live is not None and stage is not None
    wrong = replace(real, records={Environment.LIVE: replace(live, secret_key=stage.secret_key)})
    monkeypatch.setattr(config_module, "early_tenant", lambda path, cid: wrong)
    with StubStripe(world) as stub:
        code, out = _checklist_run(config, stub.url, capsys)
        keys = {key for _, _, key in stub.requests}
    assert code == 0 and "VERDICT: READY" in out  # judged on the live key's answers
    assert len(keys) == 2  # the early reads (stage key) were made, and dropped
