"""The application layer (auditor/app/) works without the command line, and click stays at the edge."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import auditor.app
from auditor.app.checklist import ChecklistOptions, check_formats, run_checklist
from auditor.app.errors import ConfigurationProblem, NothingToAudit, UsageProblem
from auditor.app.fleet import RunOptions, run_fleet
from auditor.app.inputs import SourceOptions
from auditor.app.report import ReportOptions, render_report
from auditor.audit import ProgressCallback
from auditor.config import Environment
from auditor.results import ExitCode
from tests.cli.test_run_cli import good_fleet

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


class Recorded:
    """An Output that keeps what a command would have printed."""

    def __init__(self) -> None:
        self.stdout: list[str] = []
        self.notes: list[str] = []

    def report(self, text: str) -> None:
        self.stdout.append(text)

    def note(self, line: str) -> None:
        self.notes.append(line)


@contextlib.contextmanager
def no_progress(total: int) -> Iterator[ProgressCallback | None]:
    yield None


def test_no_module_of_the_app_imports_click() -> None:
    for path in Path(auditor.app.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in imported if name.split(".")[0] == "click"}, path.name


def test_run_fleet_returns_the_run_the_files_and_the_exit_code(tmp_path) -> None:
    out = Recorded()
    options = RunOptions(config=SAMPLES / "tenants.toml", formats=("json", "table"), output=tmp_path,
                         source=SourceOptions(evidence_dir=SAMPLES / "evidence"))
    outcome = run_fleet(options, out, no_progress)
    assert outcome.exit_code == ExitCode.FINDINGS and not outcome.mail_failed  # the samples are full of findings
    assert outcome.written == [tmp_path / "results.json"] and f"wrote {tmp_path / 'results.json'}" in out.notes
    assert outcome.run.mode == "evidence" and outcome.run.records
    assert "15 records: 5 pass, 9 fail, 1 error" in "".join(out.stdout)  # the table went to standard output
    assert any(note.startswith("audit: ") for note in out.notes)  # the summary line, as on standard error


def test_run_fleet_stops_before_auditing_with_the_apps_own_errors(tmp_path) -> None:
    config = good_fleet(tmp_path)
    with pytest.raises(UsageProblem, match="exclude each other"):
        run_fleet(RunOptions(config=config, source=SourceOptions(offline=True, evidence_dir=tmp_path)),
                  Recorded(), no_progress)
    with pytest.raises(UsageProblem, match="no tenant with company_id 'NOPE'") as unknown:
        run_fleet(RunOptions(config=config, company_ids=("NOPE",)), Recorded(), no_progress)
    assert unknown.value.exit_code == 2
    with pytest.raises(NothingToAudit) as nothing:
        run_fleet(RunOptions(config=config, environments=(), source=SourceOptions(offline=True)),
                  Recorded(), no_progress)
    assert nothing.value.text().startswith("nothing to audit: ")
    with pytest.raises(ConfigurationProblem) as bad:
        run_fleet(RunOptions(config=tmp_path / "missing.toml"), Recorded(), no_progress)
    assert bad.value.text().endswith("nothing was audited and no report was written")
    assert not (tmp_path / "results.json").exists()


def test_run_checklist_and_render_report_without_the_command_line(tmp_path) -> None:
    out = Recorded()
    options = ChecklistOptions(config=SAMPLES / "tenants.toml", company_id="8XYM4WU2V6NJUM5LZ6C9",
                               environment=Environment.LIVE, formats=("json",),
                               source=SourceOptions(evidence_dir=SAMPLES / "evidence"))
    outcome = run_checklist(options, out)
    assert outcome.exit_code == outcome.checklist.verdict.exit_code
    assert '"company_id": "8XYM4WU2V6NJUM5LZ6C9"' in "".join(out.stdout)
    run_fleet(RunOptions(config=SAMPLES / "tenants.toml", formats=("json",), output=tmp_path,
                         source=SourceOptions(evidence_dir=SAMPLES / "evidence")), Recorded(), no_progress)
    report = render_report(ReportOptions(results=tmp_path / "results.json", formats=("junit",),
                                         output=tmp_path / "again"), Recorded())
    assert report.exit_code == ExitCode.OK and report.written == [tmp_path / "again" / "junit.xml"]


def test_table_and_json_of_a_checklist_cannot_share_standard_output() -> None:
    check_formats(("table", "html", "pdf"))
    with pytest.raises(UsageProblem, match="table and json both go to standard output") as both:
        check_formats(("json", "table"))
    assert both.value.option == "--format"
