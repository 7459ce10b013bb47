"""Review: ``audit checklist --format table`` no longer imports Jinja2 or the PDF layout; html and pdf still do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


@pytest.mark.parametrize(("formats", "expected"), [("table", set()), ("html", {"jinja2"}), ("json", set())])
def test_only_the_formats_that_need_jinja2_import_it(tmp_path, formats, expected) -> None:
    argv = ["checklist", "--tenant", "8XYM4WU2V6NJUM5LZ6C9", "--env", "live", "--config",
            str(SAMPLES / "tenants.toml"), "--evidence", str(SAMPLES / "evidence"), "--format", formats,
            "--output", str(tmp_path)]
    code = ("import json, sys\n"
            "from auditor.cli import main\n"
            f"code = main({argv!r})\n"
            "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules} & {'jinja2', 'weasyprint'})]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=SAMPLES)
    exit_code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert exit_code in (0, 1), done.stderr  # READY or NOT READY: the sheet was made
    assert set(loaded) == expected
    if formats == "html":
        assert (tmp_path / "checklist-8XYM4WU2V6NJUM5LZ6C9-live.html").read_text().startswith("<!DOCTYPE html>")
