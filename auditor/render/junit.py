"""``junit.xml``: one test suite per record, one test case per check, for CI gates."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from auditor.redact import scrub
from auditor.render.interface import RenderOptions
from auditor.results import CheckStatus, RunResult, Severity


class JunitRenderer:
    name = "junit"
    filename = "junit.xml"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
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
                    # info never fails a record or the exit code, so it must not fail the CI gate either:
                    # a passed case that carries the finding where CI shows a case's output
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
        return scrub(ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n").encode("utf-8")
