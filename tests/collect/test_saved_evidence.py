"""Re-auditing from saved evidence: a file that cannot be read is that record's error, in the tool's own words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditor.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
RECORD = "8XYM4WU2V6NJUM5LZ6C9.live.json"
TAIL = "sk_live_" + "Q" * 20 + "tail7"  # a secret-shaped value planted in the broken file


def _break(evidence: Path, how: str) -> None:
    path = evidence / RECORD
    if how == "wrong type":
        data = json.loads(path.read_text())
        data["account"] = {"id": 5, "note": TAIL}
        data["key_hint"] = {"echo": TAIL}
        path.write_text(json.dumps(data))
    elif how == "a directory":
        path.unlink()
        path.mkdir()
    elif how == "a list":
        path.write_text(json.dumps([json.loads(path.read_text()), TAIL]))
    elif how == "another record's":
        path.write_text((evidence / RECORD.replace("live", "stage")).read_text())
    elif how == "too big":
        path.write_text(path.read_text() + " " * 4096)
    elif how == "not json":
        path.write_text('{"account": ' + json.dumps(TAIL))
    else:
        path.write_bytes(b'{"x": "\xff\xfe"}')


@pytest.mark.parametrize("how, reason", [
    ("wrong type", "is not saved evidence (key_hint: Input should be a valid string, and 1 more)"),
    ("not json", "is not saved evidence (the top level: Invalid JSON: EOF"),
    ("not utf-8", "cannot be read (not UTF-8)"),
    ("a directory", "is not a regular file"),
    ("a list", "is not saved evidence (the top level: Input should be an object)"),
    ("another record's", "holds another record's evidence"),
    ("too big", "is 6,099 bytes, more than the collector saves"),
])
def test_a_broken_saved_file_is_that_records_error_without_a_traceback(tmp_path, capsys, monkeypatch, how,
                                                                        reason) -> None:
    # the sample files are about 2,000 bytes
    monkeypatch.setattr("auditor.collect.saved.MAX_SAVED_BYTES", 4096, raising=False)
    evidence = tmp_path / "evidence"
    shutil.copytree(SAMPLES / "evidence", evidence)
    _break(evidence, how)
    out = tmp_path / "out"
    code = main(["run", "--all-tenants", "--config", str(SAMPLES / "tenants.toml"), "--evidence", str(evidence),
                 "--format", "json,table", "--output", str(out), "--quiet"])
    stdout, stderr = capsys.readouterr()
    assert code == 1  # the samples have findings; the rest of the fleet was audited
    assert "Traceback" not in stderr and "input_value" not in stderr + stdout
    results = json.loads((out / "results.json").read_text())
    [broken] = [r for r in results["records"] if (r["company_id"], r["environment"]) ==
                ("8XYM4WU2V6NJUM5LZ6C9", "live")]
    assert broken["status"] == "error"
    stripe_checks = [c for c in broken["checks"] if c["rule"] == "ACC003"]
    assert f"the saved evidence file {RECORD} {reason}" in stripe_checks[0]["message"]
    assert len(results["records"]) == 15 and any(r["status"] == "pass" for r in results["records"])
    for text in (stdout, stderr, (out / "results.json").read_text()):
        assert "tail7" not in text
