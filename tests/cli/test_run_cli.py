"""``audit run`` as a user meets it: exit codes, configuration errors, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main

ACCOUNT = "1AbCdEfGhIjKlMnO"


def keys(mode: str) -> dict[str, str]:
    return {
        "pk": f"pk_{mode}_5{ACCOUNT}" + "P" * 30,
        "sk": f"sk_{mode}_5{ACCOUNT}" + "S" * 30,
        "wh": "whsec_" + mode.upper() * 8,
    }


def good_fleet(tmp_path: Path, live_sk_mode: str = "live") -> Path:
    """One tenant, stage and live, secrets in files: passes every record rule."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    stage, live = keys("test"), keys("live")
    live["sk"] = keys(live_sk_mode)["sk"]
    for env, k in (("stage", stage), ("live", live)):
        (secrets / f"{env}_sk").write_text(k["sk"] + "\n")
        (secrets / f"{env}_wh").write_text(k["wh"] + "\n")
    text = '[[tenants]]\ncompany_id = "ACME0000000000000001"\nname = "Acme GmbH"\n'
    for env, k in (("stage", stage), ("live", live)):
        text += (f'[tenants.{env}]\naccount_id = "acct_{ACCOUNT}"\npublishable_key = "{k["pk"]}"\n'
                 f'secret_key = {{ file = "secrets/{env}_sk" }}\nsigning_secret = {{ file = "secrets/{env}_wh" }}\n')
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    return path


def secrets_of(tmp_path: Path) -> list[str]:
    return [p.read_text().strip() for p in (tmp_path / "secrets").iterdir()]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_offline_audit_of_a_correct_tenant_passes(tmp_path, capsys) -> None:
    config = good_fleet(tmp_path)
    code, out, err = run(capsys, "run", "--all-tenants", "--offline", "--config", str(config),
                         "--format", "table,json", "--output", str(tmp_path / "out"))
    assert code == 0, out + err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["schema"] == "plenigo-stripe-audit/1"
    assert results["summary"] == {"records": 2, "pass": 2, "fail": 0, "error": 0}
    stripe_checks = [c for r in results["records"] for c in r["checks"] if c["rule"] in ("WH006", "ACC003")]
    assert stripe_checks and all(c["status"] == "skipped" for c in stripe_checks)
    assert "2 records: 2 pass, 0 fail, 0 error" in out
    for secret in secrets_of(tmp_path):
        assert secret not in out + err + (tmp_path / "out" / "results.json").read_text()


def test_a_test_key_on_live_fails_with_exit_1_and_names_the_rule(tmp_path, capsys) -> None:
    config = good_fleet(tmp_path, live_sk_mode="test")
    code, out, err = run(capsys, "run", "--all-tenants", "--offline", "--config", str(config),
                         "--output", str(tmp_path))
    assert code == 1
    assert "KEY004" in out
    assert "sk_test_…" in out  # shown masked
    for secret in secrets_of(tmp_path):
        assert secret not in out + err


def test_fail_on_raises_the_bar(tmp_path, capsys) -> None:
    config = good_fleet(tmp_path)
    text = config.read_text().replace('secret_key = { file = "secrets/live_sk" }',
                                      f'secret_key = "{(tmp_path / "secrets" / "live_sk").read_text().strip()}"')
    config.write_text(text)  # an inline secret: KEY007, medium
    assert run(capsys, "run", "--all-tenants", "--offline", "--config", str(config))[0] == 1
    assert run(capsys, "run", "--all-tenants", "--offline", "--config", str(config), "--fail-on", "high")[0] == 0


def test_only_the_named_tenant_and_environment(tmp_path, capsys) -> None:
    config = good_fleet(tmp_path)
    code, _, _ = run(capsys, "run", "--tenant", "ACME0000000000000001", "--env", "live", "--offline",
                     "--config", str(config), "--format", "json", "--output", str(tmp_path))
    records = json.loads((tmp_path / "results.json").read_text())["records"]
    assert code == 0 and [r["environment"] for r in records] == ["live"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--offline"], "either --all-tenants or --tenant"),
        (["run", "--all-tenants", "--tenant", "X", "--offline"], "either --all-tenants or --tenant"),
        (["run", "--tenant", "NOPE", "--offline"], "no tenant with company_id 'NOPE'"),
        (["run", "--all-tenants", "--offline", "--format", "table,xml"], "unknown format 'xml'"),
        (["run", "--all-tenants", "--stripe-api-base", "http://stripe.example.com"], "refusing plain-http"),
        (["run", "--all-tenants", "--env", "prod", "--offline"], "Invalid value for '--env'"),
        (["explain", "WH999"], "no rule 'WH999'"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, argv, expected) -> None:
    config = good_fleet(tmp_path)
    code, out, err = run(capsys, *argv, *(["--config", str(config)] if argv[0] == "run" else []))
    assert code == 2
    assert expected in err
    assert "Traceback" not in out + err


def test_configuration_error_exits_2_and_writes_nothing(tmp_path, capsys) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "ACME1"\n[tenants.live]\n'
                      'secret_key = { env = "UNSET_VAR_FOR_TEST" }\n')
    out_dir = tmp_path / "out"
    code, _out, err = run(capsys, "run", "--all-tenants", "--config", str(config), "--format", "json",
                         "--output", str(out_dir))
    assert code == 2
    assert f"{config}: tenant ACME1 (tenants[0]): field live.secret_key: environment variable UNSET_VAR_FOR_TEST" in err
    assert "no report was written" in err and "Traceback" not in err
    assert not out_dir.exists()


def test_missing_default_tenant_file(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "run", "--all-tenants", "--offline")
    assert code == 2 and "tenants.toml: no such file" in err


def test_rules_and_explain(capsys) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    for rule_id in ("ACC001", "KEY008", "WH006", "WH010", "TEN003"):
        assert rule_id in out
    code, out, _ = run(capsys, "explain", "events-complete")
    assert code == 0 and out.startswith("WH006 events-complete")
    assert "Why it matters" in out and "<missing_events>" in out


def test_an_internal_error_is_exit_70_with_a_scrubbed_traceback(tmp_path, capsys, monkeypatch) -> None:
    """A bug must not pass for a result: its own exit code, the traceback to report, and still no secret."""
    config = good_fleet(tmp_path)
    leaked = secrets_of(tmp_path)

    def broken(self, run, options):
        raise RuntimeError(f"bug while writing, holding {leaked[0]}")

    monkeypatch.setattr("auditor.render.json.JsonRenderer.chunks", broken)
    code, out, err = run(capsys, "run", "--all-tenants", "--offline", "--config", str(config),
                         "--format", "json", "--output", str(tmp_path / "out"))
    assert code == 70
    assert "internal error (please report it)" in err and "RuntimeError: bug while writing" in err
    assert not [s for s in leaked if s in out + err]
    assert not (tmp_path / "out" / "results.json").exists()
