"""``audit schema``: the published JSON Schema of results.json, checked with a real validator."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from auditor.schema import RESULTS_SCHEMA
from tests.ops import SAMPLES, run_audit
from tests.render import synthetic
from tests.results_schema import check_file, problems, written_results


def test_audit_schema_prints_a_valid_draft_2020_12_schema(tmp_path) -> None:
    result = run_audit(["schema"], tmp_path)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    Draft202012Validator.check_schema(printed)
    assert printed == json.loads(json.dumps(RESULTS_SCHEMA))
    assert printed["properties"]["schema"] == {"const": "plenigo-stripe-audit/1"}


def test_the_samples_results_validate(tmp_path) -> None:
    out = tmp_path / "out"
    result = run_audit(["run", "--all-tenants", "--config", str(SAMPLES / "tenants.toml"), "--evidence",
                        str(SAMPLES / "evidence"), "--format", "json", "--output", str(out),
                        "--history", str(tmp_path / "history")], tmp_path)
    assert result.returncode == 1, result.stderr
    files = written_results(tmp_path)
    assert [p.name for p in files if p.parent.name == "out"] == ["results.json"] and len(files) == 2
    assert [check_file(p) for p in files] == [[], []]
    document = json.loads((out / "results.json").read_text())
    statuses = {c["status"] for r in document["records"] for c in r["checks"]}
    assert {"pass", "fail", "error", "skipped"} <= statuses  # the schema saw every kind of check


def test_a_synthetic_fleet_with_waivers_and_errors_validates() -> None:
    run = synthetic.fleet(100)
    document = json.loads(run.to_json())
    assert any(c.get("waiver") for r in document["records"] for c in r["checks"])
    assert problems(document) == []


def test_added_fields_are_allowed_named_ones_are_strict() -> None:
    document = json.loads(synthetic.fleet(3).to_json())
    document["new_top_level_field"] = {"anything": 1}
    document["records"][0]["chosen_endpoint"] = "we_123"
    document["records"][0]["checks"][0]["fix"] = {"steps": []}
    assert problems(document) == []
    broken = json.loads(json.dumps(document))
    broken["records"][0]["checks"][0]["status"] = "warning"
    del broken["records"][1]["tenant"]
    broken["schema"] = "plenigo-stripe-audit/2"
    broken["generated_at"] = "yesterday"
    found = "\n".join(problems(broken))
    assert "'warning' is not one of" in found and "'tenant' is a required property" in found
    assert "plenigo-stripe-audit/1" in found and "yesterday" in found


def test_the_suite_wide_check_reports_an_invalid_results_file(tmp_path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"schema": "plenigo-stripe-audit/1", "records": []}))
    from tests import conftest

    found = conftest._invalid(tmp_path)
    assert any("'generated_at' is a required property" in line for line in found)
    (tmp_path / "results.json").unlink()  # this test's own teardown check must then pass
