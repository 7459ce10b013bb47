"""A built wheel carries the rules and the report templates, and works outside the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the source, so that setuptools' build/ and egg-info stay out of the checkout."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".venv-lock", "out", "build", "*.egg-info", ".hypothesis", ".pytest_cache", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--disable-pip-version-check", "-w", str(out), str(source)], check=True, cwd=out)
    (built,) = out.glob("plenigo_stripe_auditor-*.whl")
    return built


def test_wheel_installs_exactly_one_import_package_holding_rules_and_templates(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"auditor"}, "a second top-level name would shadow (or be shadowed by) another distribution"
    for module in ("account", "keys", "webhook", "tenant", "guide", "base"):
        assert f"auditor/rules/{module}.py" in names
    for template in ("base.html.j2", "report.html.j2", "report_pdf.html.j2", "checklist.html.j2",
                     "email.html.j2", "email.txt.j2", "report.css", "print.css"):
        assert f"auditor/report_templates/{template}" in names
    assert not any(name.startswith(("tests/", "samples/", "benchmarks/")) for name in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "audit = auditor.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_unpacked_wheel_audits_and_renders_away_from_the_source_tree(wheel, tmp_path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    out = tmp_path / "out"
    script = (
        "import sys, auditor, auditor.rules, auditor.report_templates as report_templates\n"
        "from auditor.cli import main\n"
        f"assert auditor.__file__.startswith({str(site)!r}), auditor.__file__\n"
        f"assert report_templates.__file__.startswith({str(site)!r}), report_templates.__file__\n"
        f"sys.exit(main(['run', '--all-tenants', '--config', {str(SAMPLES / 'tenants.toml')!r}, '--evidence',"
        f" {str(SAMPLES / 'evidence')!r}, '--format', 'json,html,pdf', '--output', {str(out)!r}, '--quiet']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the samples have findings
    html = (out / "report.html").read_text()
    assert "events-complete" in html and "BERGMANND1G1TAL00004" in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
