"""``audit report``: a saved run rendered again without Stripe; a broken results file is exit 2."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from tests.render.conftest import SECRET, small_run


@pytest.fixture()
def saved(tmp_path, run):
    path = tmp_path / "results.json"
    path.write_text(run.to_json(), encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_rerenders_a_saved_run(saved, tmp_path, run) -> None:
    out = tmp_path / "out"
    result = invoke("report", str(saved), "--format", "html,junit", "--output", str(out))
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Bergmann Digital GmbH" in html and "Evidence appendix" in html and SECRET not in html
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == len(run.records)
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html"]
    assert saved.read_text(encoding="utf-8") == run.to_json()  # the saved run is read, never rewritten


def test_shows_changes_since_a_previous_run(saved, tmp_path) -> None:
    previous = small_run()
    previous.records = previous.records[:2]  # last time only two records were audited
    previous.records[0].checks = [c for c in previous.records[0].checks if c.rule != "WH004"]
    old = tmp_path / "old.json"
    old.write_text(previous.to_json(), encoding="utf-8")
    result = invoke("report", str(saved), "--previous", str(old), "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Changes since the previous run" in html and "1 new failure" in html and "3 new records" in html


@pytest.mark.parametrize("content, message", [
    ('{"records": "nope"', "not valid JSON"),
    ('{"schema": "something-else/1"}', "not a results file of this tool"),
    ('[1, 2]', "not a results file of this tool"),
    (json.dumps({"schema": "plenigo-stripe-audit/1", "records": [{"company_id": "X"}]}), "records.0.tenant"),
    ("\udcff", "cannot read"),
])
def test_rejects_a_broken_results_file(tmp_path, content, message) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(content.encode("utf-8", "surrogateescape"))
    out = tmp_path / "out"
    result = invoke("report", str(broken), "--format", "html,pdf", "--output", str(out))
    assert result.exit_code == 2
    assert message in result.output and "no report was written" in result.output
    assert not out.exists()


def test_rejects_a_missing_file_and_a_broken_previous(saved, tmp_path) -> None:
    result = invoke("report", str(tmp_path / "nowhere.json"), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no such results file" in result.output
    bad = tmp_path / "old.json"
    bad.write_text("{}", encoding="utf-8")
    result = invoke("report", str(saved), "--previous", str(bad), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2 and "old.json" in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_format_is_a_usage_error(saved, tmp_path) -> None:
    result = invoke("report", str(saved), "--format", "html,docx", "--output", str(tmp_path / "out"))
    assert result.exit_code == 2 and "unknown format 'docx'" in result.output


def test_help_has_an_example() -> None:
    result = invoke("report", "--help")
    assert result.exit_code == 0 and "audit report out/results.json --format html,pdf" in result.output
