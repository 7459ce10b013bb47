"""results.csv and junit.xml are written record by record (``chunks``), byte for byte what rendering the whole
file at once wrote: the whole-file algorithms of before are kept here as the oracles, over synthetic fleets,
hostile text (XML specials, ``]]>``, control characters, Unicode, formula starts, secrets) and spooled runs."""

from __future__ import annotations

import csv
import io
import random
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any, overload

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.redact import register_secret, scrub
from auditor.render.interface import RenderOptions
from auditor.render.junit import JunitRenderer
from auditor.render.spreadsheet import COLUMNS, CsvRenderer, safe_cell
from auditor.results import CheckStatus, RecordResult, RecordStatus, RunResult, Severity, Waiver
from auditor.spool import RecordSpool, dumped
from tests.render import synthetic

SHAPED_SECRET = "sk_live_" + "".join(chr(ord("A") + i % 26) for i in range(26))  # built at run time, not a real key
IRREGULAR_SECRET = "pl3nigo test secret & <odd> 9f2c"  # registered below: scrubbed in every escaped form
HOSTILE = [
    "", " ", "<", ">", "&", '"', "'", "]]>", "<![CDATA[x]]>", "&amp;", "&#10;", "<testsuite name=\"x\">",
    "a\nb", "a\r\nb", "\r", "\t", "line\x0bvert\x0cfeed", "nul\x00byte", "\x01\x1f\x7f", "\x85next\u2028sep\u2029",
    "Münster Rundschau GmbH & Co. KG", "日本語のテナント", "emoji 🙂‍↔️", "\u202eRTL override", "\ufeffBOM", "e\u0301",
    "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tindented", "\rreturn",
    SHAPED_SECRET, f"key {SHAPED_SECRET} in the middle", f"sk%5Flive%5F{SHAPED_SECRET[8:]}", "whsec_" + "Z9" * 12,
    IRREGULAR_SECRET, f"<{IRREGULAR_SECRET}>", "\u0130stanbul sk_test_\u0131" + "x" * 12, "ſk_live_" + "q" * 14,
]


@pytest.fixture(autouse=True, scope="module")
def _irregular_secret_registered() -> None:
    register_secret(IRREGULAR_SECRET)


# ---- the oracles: the whole-file renderers as they were before streaming (commit 5ec6c3d) ----

def csv_oracle(run: RunResult, options: RenderOptions) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in run.records:
        for check in record.checks:
            w = check.waiver
            writer.writerow([safe_cell(v) for v in (
                record.company_id, record.tenant, record.environment, record.status.value, check.rule, check.slug,
                check.severity.value, check.status.value, check.message, check.remediation or "",
                w.expires if w else "", w.approved_by if w else "", w.reason if w else "")])
    return scrub(out.getvalue()).encode("utf-8-sig")


def junit_oracle(run: RunResult, options: RenderOptions) -> bytes:
    suites = ET.Element("testsuites", name=options.title)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for record in run.records:
        suite = ET.SubElement(suites, "testsuite", name=f"{record.company_id} {record.environment}",
                              timestamp=run.generated_at.isoformat())
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="tenant", value=record.tenant)
        ET.SubElement(props, "property", name="status", value=record.status.value)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check in record.checks:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", name=f"{check.rule} {check.slug}",
                                 classname=f"{record.company_id}.{record.environment}")
            text = check.message + (f"\n\n{check.remediation}" if check.remediation else "")
            if check.status is CheckStatus.FAIL and check.severity is Severity.INFO:
                ET.SubElement(case, "system-out").text = f"info: {text}"
            elif check.status is CheckStatus.FAIL:
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=check.message, type=check.severity.value).text = text
            elif check.status is CheckStatus.ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=check.message).text = text
            elif check.status in (CheckStatus.SKIPPED, CheckStatus.WAIVED):
                counts["skipped"] += 1
                reason = check.message if check.status is CheckStatus.SKIPPED else (
                    f"waived until {check.waiver.expires} by {check.waiver.approved_by}: {check.waiver.reason}"
                    if check.waiver else "waived")
                ET.SubElement(case, "skipped", message=reason)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    whole = scrub(ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n")
    # since: what XML 1.0 cannot carry (written raw before, and no reader took the file) is shown as an escape
    return "".join(_shown(c) for c in whole).encode("utf-8")


def _shown(char: str) -> str:
    code = ord(char)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000:
        return char
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# ---- runs ----

def hostile_run(seed: int, tenants: int = 12) -> RunResult:
    """A fleet whose text fields are drawn from :data:`HOSTILE`, with every status, info failures, waivers
    with and without their waiver, empty remediations and a record without checks."""
    rng = random.Random(seed)
    run = synthetic.fleet(tenants, seed=seed)
    pick = lambda: rng.choice(HOSTILE) + rng.choice(["", " ", "x"]) + rng.choice(HOSTILE)  # noqa: E731
    for record in run.records:
        if rng.random() < 0.5:
            record.tenant = pick()
        if rng.random() < 0.2:
            record.company_id = pick()
        if rng.random() < 0.1:
            record.environment = pick()
        record.status = rng.choice(list(RecordStatus))
        for check in record.checks:
            if rng.random() < 0.3:
                check.status = rng.choice(list(CheckStatus))
                check.severity = rng.choice(list(Severity))
            if rng.random() < 0.3:
                check.message = pick()
            if rng.random() < 0.2:
                check.remediation = rng.choice([None, "", pick()])
            if rng.random() < 0.1:
                check.rule, check.slug = pick(), pick()
            if check.status is CheckStatus.WAIVED and rng.random() < 0.7:
                check.waiver = Waiver(reason=pick(), approved_by=pick(), expires=pick(), company_id="x")
            elif rng.random() < 0.05:
                check.waiver = None
    run.records.append(RecordResult(company_id=pick(), tenant=pick(), environment="live",
                                    status=RecordStatus.PASS, checks=[]))
    rng.shuffle(run.records)
    return run


def spooled(run: RunResult, plain_from: int | None = None) -> RunResult:
    """The run with its records in a spool as a fleet run keeps them (from ``plain_from`` on stored as
    other JSON, without facts, as a spool allows)."""
    spool = RecordSpool(len(run.records), [r.company_id for r in run.records])
    for index, record in enumerate(run.records):
        if plain_from is not None and index >= plain_from:
            spool.put(index, record.model_dump_json())
        else:
            spool.put(index, *dumped(record))
    copy = run.model_copy()
    copy.records = spool.complete()  # type: ignore[assignment]  # a Sequence of RecordResult, read on access
    return copy


RUNS = {
    "fleet": lambda: synthetic.fleet(40),
    "hostile 1": lambda: hostile_run(1),
    "hostile 2": lambda: hostile_run(2),
    "hostile 3": lambda: hostile_run(3, tenants=3),
    "empty": lambda: synthetic.run_of([]),
    "one record without checks": lambda: synthetic.run_of([RecordResult(
        company_id="C1", tenant="<T>", environment="live", status=RecordStatus.PASS, checks=[])]),
}
OPTIONS = [RenderOptions(), RenderOptions(title=f"{HOSTILE[7]} {SHAPED_SECRET} {IRREGULAR_SECRET} \x01]]>")]


@pytest.mark.parametrize("make", RUNS.values(), ids=RUNS.keys())
@pytest.mark.parametrize("options", OPTIONS, ids=["plain title", "hostile title"])
def test_streamed_files_are_the_whole_files_of_before(make: Any, options: RenderOptions) -> None:
    run = make()
    for renderer, oracle in ((CsvRenderer(), csv_oracle), (JunitRenderer(), junit_oracle)):
        expected = oracle(run, options)
        assert b"".join(renderer.chunks(run, options)) == expected
        assert renderer.render(run, options) == expected
        for copy in (spooled(run), spooled(run, plain_from=len(run.records) // 2)):
            assert b"".join(renderer.chunks(copy, options)) == expected


def test_hostile_text_is_escaped_and_secrets_are_masked() -> None:
    run = hostile_run(4, tenants=30)
    text = b"".join(JunitRenderer().chunks(run, RenderOptions())).decode("utf-8")
    sheet = b"".join(CsvRenderer().chunks(run, RenderOptions())).decode("utf-8-sig")
    assert "]]&gt;" in text and "]]>" not in text and "&lt;![CDATA[" in text and "&#10;" in text  # the run has them
    assert "Münster" in text and "'=HYPERLINK" in sheet and "]]>" in sheet
    for output in (text, sheet):
        assert SHAPED_SECRET[8:] not in output and IRREGULAR_SECRET not in output
        assert "pl3nigo" not in output and "…9f2c" in output  # no escaped form of the registered secret either


_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12) | st.sampled_from(HOSTILE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT, _TEXT, st.sampled_from(list(CheckStatus)),
                          st.sampled_from(list(Severity)), st.booleans()), max_size=8), _TEXT)
def test_any_text_gives_the_same_bytes(fields: list[tuple[Any, ...]], title: str) -> None:
    template = synthetic.record("C0", "T", "live", "waived")
    records = []
    for n, (tenant, message, remediation, reason, status, severity, waived) in enumerate(fields):
        record = template.model_copy(deep=True)
        record.company_id, record.tenant = f"C{n % 3}{tenant[:2]}", tenant
        check = record.checks[n % len(record.checks)]
        check.message, check.remediation, check.status, check.severity = message, remediation or None, status, severity
        check.waiver = Waiver(reason=reason, approved_by=tenant, expires=message, company_id="C") if waived else None
        records.append(record)
    run, options = synthetic.run_of(records), RenderOptions(title=title)
    assert CsvRenderer().render(run, options) == csv_oracle(run, options)
    assert JunitRenderer().render(run, options) == junit_oracle(run, options)


class Reads(Sequence[RecordResult]):
    """A run's records that note which are read, and how many passes start."""

    def __init__(self, records: list[RecordResult]):
        self.records, self.read, self.passes = records, [], 0

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[RecordResult]: ...

    def __getitem__(self, index: Any) -> Any:
        self.read.append(index)
        return self.records[index]

    def __iter__(self) -> Iterator[RecordResult]:
        self.passes += 1
        for index in range(len(self)):
            yield self[index]


def test_csv_is_made_a_record_at_a_time() -> None:
    run = synthetic.fleet(20)
    records = Reads(list(run.records))
    run.records = records  # type: ignore[assignment]
    chunks = CsvRenderer().chunks(run, RenderOptions())
    header = next(chunks)
    assert header.startswith(b"\xef\xbb\xbf" + ",".join(COLUMNS).encode()) and records.read == []
    first = next(chunks)
    assert records.read == [0] and first.count(b"\r\n") == len(records.records[0].checks)
    assert len(list(chunks)) == len(records) - 1 and records.passes == 1


def test_junit_is_made_a_suite_at_a_time_after_a_pass_that_counts() -> None:
    run = synthetic.fleet(20)
    records = Reads(list(run.records))
    run.records = records  # type: ignore[assignment]
    chunks = JunitRenderer().chunks(run, RenderOptions())
    head = next(chunks).decode()
    assert head.startswith("<?xml") and head.endswith(">\n  ") and "<testsuite " not in head
    assert records.passes == 1 and len(records.read) == len(records)  # the totals' pass: all read, none kept
    records.read.clear()
    suite = next(chunks).decode()
    assert records.read == [0] and suite.startswith("<testsuite ") and suite.endswith("</testsuite>")
    rest = list(chunks)
    assert len(rest) == len(records) and rest[-1] == b"\n</testsuites>\n" and records.passes == 2


def test_junit_xml_stays_well_formed_whatever_the_tenant_name_or_message_holds() -> None:
    """Characters XML 1.0 cannot carry (even escaped) are shown as escapes: a CI server can always read the file."""
    from tests.render.synthetic import record as make_record

    rec = make_record("CTRLCHARS00000000001", "Evil\x0b\x00Name\ufffe", "live", kind="wrong_path")
    check = next(c for c in rec.checks if c.status is CheckStatus.FAIL)
    rec.checks[rec.checks.index(check)] = check.model_copy(update={"message": "bad\x1bthing\x08"})
    data = JunitRenderer().render(RunResult(records=[rec]), RenderOptions())
    root = ET.fromstring(data)  # raised "not well-formed (invalid token)" before
    tenant = root.find("testsuite/properties/property[@name='tenant']")
    assert tenant is not None and tenant.get("value") == "Evil\\x0b\\x00Name\\ufffe"
    assert "bad\\x1bthing\\x08" in data.decode("utf-8")
