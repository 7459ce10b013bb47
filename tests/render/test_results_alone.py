"""Reports render from results.json alone: ``audit report`` never asks the installed rule catalogue.

The renderers run in processes where ``import auditor.rules`` fails (a ``sitecustomize`` on PYTHONPATH
installs an import blocker, in the PDF's layout child too), and must still write the PDF the run wrote.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditor.render import RenderOptions, get_renderer
from auditor.results import RunResult
from tests.render import synthetic

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

BLOCKER = '''
import sys

class _NoRuleCatalogue:
    """Refuses auditor.rules: a renderer that consults the catalogue fails instead of reading the results."""

    def find_spec(self, name, path=None, target=None):
        if name == "auditor.rules" or name.startswith("auditor.rules."):
            raise ImportError(f"{name} is blocked: reports must render from results.json alone")
        return None

sys.meta_path.insert(0, _NoRuleCatalogue())
'''


def _audit(*args: str, blocked: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if blocked is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(blocked), env.get("PYTHONPATH")) if p)
    code = "import sys; from auditor.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def blocker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("no-rules")
    (folder / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    return folder


def _texts(pdf: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_blocker_blocks(blocker: Path) -> None:
    """Guards the test itself: in a blocked process the catalogue cannot be imported."""
    result = _audit("explain", "WH006", blocked=blocker)
    assert result.returncode != 0 and "blocked" in result.stderr + result.stdout


def test_report_renders_the_runs_pdf_without_the_catalogue(tmp_path: Path, blocker: Path) -> None:
    """The sample fleet: the PDF ``audit report`` writes from results.json is the one the run wrote."""
    run_dir, report_dir = tmp_path / "run", tmp_path / "report"
    ran = _audit("run", "--all-tenants", "--config", str(SAMPLES / "tenants.toml"), "--evidence",
                 str(SAMPLES / "evidence"), "--format", "json,pdf", "--output", str(run_dir))
    assert ran.returncode == 1, ran.stderr  # the samples have findings
    reported = _audit("report", str(run_dir / "results.json"), "--format", "pdf", "--output", str(report_dir),
                      blocked=blocker)
    assert reported.returncode == 0, reported.stderr
    assert _texts((report_dir / "report.pdf").read_bytes()) == _texts((run_dir / "report.pdf").read_bytes())


def test_fix_steps_by_rule_come_from_results_json(tmp_path: Path, blocker: Path) -> None:
    """A fleet large enough that the PDF prints each rule's steps once: the steps are the ones recorded."""
    run = synthetic.fleet(80)
    run.rules["WH006"] = run.rules["WH006"].model_copy(update={"steps": "Recorded steps for WH006, as run."})
    saved = tmp_path / "results.json"
    saved.write_bytes(get_renderer("json").render(run, RenderOptions()))
    expected = _texts(get_renderer("pdf").render(RunResult.from_json(saved.read_text("utf-8")), RenderOptions()))
    reported = _audit("report", str(saved), "--format", "pdf", "--output", str(tmp_path / "out"), blocked=blocker)
    assert reported.returncode == 0, reported.stderr
    texts = _texts((tmp_path / "out" / "report.pdf").read_bytes())
    assert texts == expected
    assert "Recorded steps for WH006, as run." in " ".join(texts)


def test_an_older_results_json_without_the_new_fields_still_renders(tmp_path: Path, blocker: Path) -> None:
    """Degrades gracefully: no steps by rule (each finding keeps its own fix), the evidence in Stripe's order."""
    run = synthetic.fleet(80)
    run.rules = {}
    for record in run.records:
        record.endpoint_roles = None
    saved = tmp_path / "results.json"
    saved.write_text(run.model_dump_json(by_alias=True, exclude={"rules": True,
                                                                  "records": {"__all__": {"endpoint_roles"}}}),
                     encoding="utf-8")
    assert '"endpoint_roles"' not in saved.read_text("utf-8") and '"rules"' not in saved.read_text("utf-8")
    out = tmp_path / "out"
    reported = _audit("report", str(saved), "--format", "pdf,html", "--output", str(out), blocked=blocker)
    assert reported.returncode == 0, reported.stderr
    text = " ".join(_texts((out / "report.pdf").read_bytes()))
    assert "How to fix, by rule" in text and "WH006" in text
    # no steps were recorded, so each finding keeps its own fix: a fleet's PDF is never left without them
    fixes = [" ".join(c.remediation.split()) for r in run.records for c in r.checks
             if c.status.value == "fail" and c.remediation]
    assert fixes and all(fix[:80] in text for fix in fixes)
    failing = next(r for r in run.records if r.status.value == "fail")
    html = (out / "report.html").read_text("utf-8")
    assert f'id="{failing.company_id}-{failing.environment}"' in html and 'id="by-rule"' in html
