"""``junit.xml``: one test suite per record, one test case per check, for CI gates.

A fleet's file is written a suite at a time (:meth:`JunitRenderer.chunks`): the
tree of the whole fleet, indented and serialised at once, held every record's
elements and the document's text together. The bytes are the same as
ElementTree's for the whole tree: each suite is indented at the depth it has in
the document and serialised alone, between the root's opening and closing tags
as ElementTree writes them. Scrubbed a suite at a time, the text loses what it
lost scrubbed whole: a secret-shaped string cannot span the tags between two
suites (a registered secret could only if it held them).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence

from auditor.redact import scrub
from auditor.render.interface import RenderOptions
from auditor.results import CheckStatus, RecordResult, RunResult, Severity

_COUNTS = ("tests", "failures", "errors", "skipped")
_ROOT = "testsuites"
_LEVEL_ONE = "\n  "  # ET.indent's text before each suite (the root's children); the last one's tail is "\n"


# Characters XML 1.0 does not allow, even escaped: ElementTree writes them raw and every XML reader (a CI
# server's too) then refuses the whole file. Tenant names and Stripe's messages are untrusted text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """``text`` with each character XML cannot carry shown as an escape (``\\x0b``, ``\\ufffe``): put in place
    after ElementTree's escaping, so the escape itself must need none (no ``<``)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _out(text: str) -> bytes:
    """A piece of the document as written: scrubbed of secrets, every character one XML can carry."""
    return _xml_safe(scrub(text)).encode("utf-8")


def _counted_as(status: CheckStatus, severity: Severity) -> str | None:
    """Which count besides ``tests`` a check adds to (info never fails a CI gate: it is a passed case)."""
    if status is CheckStatus.FAIL:
        return None if severity is Severity.INFO else "failures"
    if status is CheckStatus.ERROR:
        return "errors"
    if status in (CheckStatus.SKIPPED, CheckStatus.WAIVED):
        return "skipped"
    return None


def _totals(records: Sequence[RecordResult]) -> tuple[int, dict[str, int]]:
    """How many records, and the root's counts: a pass over the records that keeps integers only."""
    totals = dict.fromkeys(_COUNTS, 0)
    found = 0
    for record in records:
        found += 1
        for check in record.checks:
            totals["tests"] += 1
            kind = _counted_as(check.status, check.severity)
            if kind is not None:
                totals[kind] += 1
    return found, totals


def _suite(record: RecordResult, timestamp: str) -> ET.Element:
    """One record's ``<testsuite>``, its counts set last (as attributes after name and timestamp)."""
    suite = ET.Element("testsuite", name=f"{record.company_id} {record.environment}", timestamp=timestamp)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="tenant", value=record.tenant)
    ET.SubElement(props, "property", name="status", value=record.status.value)
    counts = dict.fromkeys(_COUNTS, 0)
    for check in record.checks:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", name=f"{check.rule} {check.slug}",
                             classname=f"{record.company_id}.{record.environment}")
        text = check.message + (f"\n\n{check.remediation}" if check.remediation else "")
        kind = _counted_as(check.status, check.severity)
        if kind is not None:
            counts[kind] += 1
        if check.status is CheckStatus.FAIL and check.severity is Severity.INFO:
            # info never fails a record or the exit code, so it must not fail the CI gate either:
            # a passed case that carries the finding where CI shows a case's output
            ET.SubElement(case, "system-out").text = f"info: {text}"
        elif check.status is CheckStatus.FAIL:
            ET.SubElement(case, "failure", message=check.message, type=check.severity.value).text = text
        elif check.status is CheckStatus.ERROR:
            ET.SubElement(case, "error", message=check.message).text = text
        elif check.status in (CheckStatus.SKIPPED, CheckStatus.WAIVED):
            reason = check.message if check.status is CheckStatus.SKIPPED else (
                f"waived until {check.waiver.expires} by {check.waiver.approved_by}: {check.waiver.reason}"
                if check.waiver else "waived")
            ET.SubElement(case, "skipped", message=reason)
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


class JunitRenderer:
    name = "junit"
    filename = "junit.xml"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        return b"".join(self.chunks(run, options))

    def chunks(self, run: RunResult, options: RenderOptions) -> Iterator[bytes]:
        """The document a suite at a time, each scrubbed and encoded alone, to be written as it is made.

        The root's totals come first in the file, so the records are read twice:
        once for the totals (integers only), once for the suites. A spooled run
        decodes each record in both passes, one at a time: the fleet decoded once
        more, rather than its tree or its text held until the totals are known.
        """
        found, totals = _totals(run.records)
        root = ET.Element(_ROOT, name=options.title)
        for key, value in totals.items():
            root.set(key, str(value))
        if not found:  # no suite: ET.indent leaves the root alone and ElementTree closes it in its opening tag
            yield _out(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
            return
        root.text = _LEVEL_ONE
        head, closing, _ = ET.tostring(root, encoding="unicode", xml_declaration=True).rpartition(f"</{_ROOT}>")
        yield _out(head)  # the declaration, the root's opening tag and the first indentation
        timestamp = run.generated_at.isoformat()
        for index, record in enumerate(run.records):
            suite = _suite(record, timestamp)
            ET.indent(suite, level=1)  # as ET.indent of the whole tree indents a child of the root
            yield _out((_LEVEL_ONE if index else "") + ET.tostring(suite, encoding="unicode"))
        yield _out("\n" + closing + "\n")
