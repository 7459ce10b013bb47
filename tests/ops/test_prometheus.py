"""``--format prometheus``: metrics.prom for node_exporter's textfile collector, read by the official parser."""

from __future__ import annotations

import json
import os
import re
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from auditor.render import RenderOptions, get_renderer
from tests.ops import SAMPLES, run_audit
from tests.render import synthetic

P = "plenigo_stripe_audit_"


def _series(text: str) -> list[tuple[str, tuple]]:
    """Every sample as (name, sorted labels), as Prometheus identifies a series."""
    return [(s.name, tuple(sorted(s.labels.items()))) for family in text_string_to_metric_families(text)
            for s in family.samples]


def _textfile_rules(text: str) -> None:
    """What node_exporter's textfile collector insists on, beyond parsing."""
    assert text.endswith("\n")
    names_in_order = []
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        assert not line.startswith("#") and line.strip()
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
        assert re.fullmatch(r"(.*\})? ?\S+", line.split(name, 1)[1]) and not re.search(r"\} \S+ \S+$", line), line
        if not names_in_order or names_in_order[-1] != name:
            names_in_order.append(name)
    assert len(names_in_order) == len(set(names_in_order)), "a family's samples must be contiguous"
    helps = Counter(line.split()[2] for line in text.splitlines() if line.startswith("# HELP "))
    types = Counter(line.split()[2] for line in text.splitlines() if line.startswith("# TYPE "))
    assert set(helps.values()) == {1} and helps == types


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == P + name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_of_the_sample_fleet_through_the_installed_command(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.prom").write_text("stale\n")
    old_inode = os.stat(out / "metrics.prom").st_ino
    result = run_audit(["run", "--all-tenants", "--config", str(SAMPLES / "tenants.toml"), "--evidence",
                        str(SAMPLES / "evidence"), "--format", "json,prometheus", "--output", str(out)], tmp_path)
    assert result.returncode == 1, result.stderr
    text = (out / "metrics.prom").read_text()
    assert os.stat(out / "metrics.prom").st_ino != old_inode  # renamed into place, not rewritten in place
    assert sorted(p.name for p in out.iterdir()) == ["metrics.prom", "results.json"]  # no temporary left
    _textfile_rules(text)
    series = _series(text)
    assert len(series) == len(set(series))
    results = json.loads((out / "results.json").read_text())
    checks = [(r, c) for r in results["records"] for c in r["checks"]]
    assert sum(1 for name, _ in series if name == P + "check_status") == len(checks)
    for env in ("stage", "live"):
        for status in ("pass", "fail", "error"):
            expected = sum(1 for r in results["records"] if r["environment"] == env and r["status"] == status)
            assert _value(text, "records", environment=env, status=status) == expected
    critical_live_failures = sum(1 for r, c in checks if r["environment"] == "live" and c["severity"] == "critical"
                                 and c["status"] == "fail")
    assert critical_live_failures > 0
    assert _value(text, "checks", environment="live", severity="critical", status="fail") == critical_live_failures
    assert _value(text, "check_status", company_id="N0RDL1CHTVERLAG00002", environment="live", rule="KEY004",
                  severity="critical", status="fail") == 1
    assert _value(text, "record_status", company_id="SEEBL1CKSPORT0000008", environment="live",
                  status="error") == 1
    from datetime import datetime
    generated = datetime.fromisoformat(results["generated_at"].replace("Z", "+00:00")).timestamp()
    assert _value(text, "last_run_timestamp_seconds") == generated
    assert _value(text, "run_duration_seconds") == results["duration_seconds"] >= 0


def test_label_values_are_escaped_and_duplicates_written_once() -> None:
    name = 'Quote " back\\slash\nnewline GmbH'
    record = synthetic.record("ESCAPE00000000000001", name, "live", "wrong_path")
    twin = record.model_copy(deep=True)  # the same record twice must not make the same series twice
    run = synthetic.run_of([record, twin])
    text = get_renderer("prometheus").render(run, RenderOptions()).decode("utf-8")
    _textfile_rules(text)
    series = _series(text)
    assert len(series) == len(set(series))
    assert _value(text, "record_status", company_id="ESCAPE00000000000001", tenant=name, status="fail") == 1
    assert _value(text, "records", environment="live", status="fail") == 2  # counts still count both
    assert "run_duration_seconds" not in text  # not measured: not invented


def test_a_saved_run_renders_metrics_again(tmp_path) -> None:
    run = synthetic.fleet(40)
    saved = tmp_path / "results.json"
    saved.write_text(run.to_json())
    result = run_audit(["report", str(saved), "--format", "prometheus", "--output", str(tmp_path)], tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "metrics.prom").read_text()
    series = _series(text)
    assert len(series) == len(set(series))
    assert _value(text, "last_run_timestamp_seconds") == run.generated_at.timestamp()
