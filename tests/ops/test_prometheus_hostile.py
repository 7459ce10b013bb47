"""metrics.prom under attack: hostile saved runs, and what node_exporter's collector needs to read the file."""

from __future__ import annotations

import json

from tests.ops import run_audit
from tests.render import synthetic


def test_a_saved_run_with_a_lone_surrogate_is_refused_not_an_internal_error(tmp_path) -> None:
    """`\\ud800` is valid JSON but no text: `audit report` must say so (exit 2), not crash writing metrics."""
    document = json.loads(synthetic.fleet(2).to_json())
    document["records"][0]["tenant"] = "Broken \ud800 export GmbH"
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(document), encoding="ascii")  # ensure_ascii keeps the escape as \ud800
    out = tmp_path / "out"
    result = run_audit(["report", str(saved), "--format", "prometheus,html", "--output", str(out)], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "lone surrogate" in result.stderr and "saved.json" in result.stderr
    assert not (out / "metrics.prom").exists() and not (out / "report.html").exists()
