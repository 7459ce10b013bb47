"""``{ command = [...] }`` secrets: a vault client's output, run once, no shell, never echoed."""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import pytest

from auditor.config import ConfigError, load_tenants
from auditor.redact import scrub
from auditor.secret_command import SecretCommandError, run_secret_command
from tests.e2e.test_fleet import EXPECTED, verdicts
from tests.ops import SAMPLES, run_audit

# A stand-in for `op read` / `vault kv get -field=...` / `pass show`: prints the secret stored under its
# argument, logs each call, and says something secret-looking on stderr that must never be shown.
CLIENT = f"""#!{sys.executable}
import pathlib, sys
store = pathlib.Path(sys.argv[1])
name = sys.argv[2]
with open(store / "calls.log", "a") as log:
    log.write(name + "\\n")
value = (store / "secrets" / name).read_text().rstrip("\\n")
print("debug: resolved", value, file=sys.stderr)
if name.startswith("fail"):
    print(value)
    sys.exit(3)
if name.startswith("slow"):
    import time
    time.sleep(60)
if name.startswith("huge"):
    sys.stdout.write(value * 20000)
    sys.exit(0)
sys.stdout.write(value + ("\\n\\n" if name.startswith("two-newlines") else "\\n"))
"""


def _client(tmp_path: Path) -> Path:
    script = tmp_path / "fake-vault"
    script.write_text(CLIENT)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "secrets").mkdir(exist_ok=True)
    return script


def _store(tmp_path: Path, name: str, value: str) -> None:
    (tmp_path / "secrets" / name).write_text(value + "\n")


def _samples_via_command(tmp_path: Path) -> Path:
    """samples/tenants.toml with every { file = "secrets/X" } replaced by { command = [client, store, X] }."""
    client = _client(tmp_path)
    for secret in (SAMPLES / "secrets").iterdir():
        (tmp_path / "secrets" / secret.name).write_bytes(secret.read_bytes())

    def command(match: re.Match) -> str:
        return "{ command = " + json.dumps([str(client), str(tmp_path), match.group(1)]) + " }"

    text = re.sub(r'\{ file = "secrets/([^"]+)" \}', command, (SAMPLES / "tenants.toml").read_text())
    assert "file =" not in text
    config = tmp_path / "tenants.toml"
    config.write_text(text)
    return config


def _one_tenant(tmp_path: Path, secret_name: str, value: str, twice: bool = False) -> Path:
    client = _client(tmp_path)
    _store(tmp_path, secret_name, value)
    ref = "{ command = " + json.dumps([str(client), str(tmp_path), secret_name]) + " }"
    tenants = "".join(f"""
[[tenants]]
company_id = "VAULT{i}"
[tenants.stage]
secret_key = {ref}
""" for i in range(2 if twice else 1))
    config = tmp_path / "tenants.toml"
    config.write_text(tenants)
    return config


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


def test_samples_audited_with_secrets_from_a_vault_client(tmp_path) -> None:
    config = _samples_via_command(tmp_path)
    out = tmp_path / "out"
    result = run_audit(["run", "--all-tenants", "--config", str(config), "--evidence", str(SAMPLES / "evidence"),
                        "--format", "table,json,html,junit,prometheus", "--output", str(out)], tmp_path)
    assert result.returncode == 1, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert verdicts(results) == EXPECTED  # the same findings as with the secrets in files
    calls = (tmp_path / "calls.log").read_text().split()
    named = set(re.findall(r'\{ file = "secrets/([^"]+)" \}', (SAMPLES / "tenants.toml").read_text()))
    assert sorted(calls) == sorted(named)  # each distinct command ran, once
    secrets = [p.read_text().rstrip("\n") for p in (tmp_path / "secrets").iterdir()]
    everything = result.stdout + result.stderr + _all_text(out)
    assert [s for s in secrets if s in everything] == []
    command_record = next(r for r in results["records"] if r["company_id"] == "8XYM4WU2V6NJUM5LZ6C9")
    assert next(c for c in command_record["checks"] if c["rule"] == "KEY007")["status"] == "pass"


def test_one_distinct_command_runs_once_for_every_tenant_that_names_it(tmp_path) -> None:
    config = _one_tenant(tmp_path, "shared", "sk_test_" + "S" * 30, twice=True)
    tenants = load_tenants(config)
    assert [t.records[next(iter(t.records))].secret_key.reveal() for t in tenants] == ["sk_test_" + "S" * 30] * 2
    assert (tmp_path / "calls.log").read_text().split() == ["shared"]
    assert tenants[0].records[next(iter(tenants[0].records))].secret_key.origin == "command"


def test_exactly_one_final_newline_is_stripped_and_the_value_is_registered(tmp_path) -> None:
    value = "pass&word-" + "x" * 12  # not Stripe-shaped: only registration can hide it
    config = _one_tenant(tmp_path, "two-newlines", value)
    (tenant,) = load_tenants(config)
    assert next(iter(tenant.records.values())).secret_key.reveal() == value + "\n"
    assert value not in scrub(f"the key is {value}")


@pytest.mark.parametrize("name, reason", [
    ("fail-exit", "failed with exit code 3"),
    ("slow-timeout", "did not finish within 0.5 s"),
    ("huge-output", "printed more than 65536 bytes"),
])
def test_a_failing_command_is_a_configuration_error_without_its_output(tmp_path, name, reason) -> None:
    value = "sk_test_" + "F" * 30 + "unique"
    config = _one_tenant(tmp_path, name, value)
    result = run_audit(["run", "--all-tenants", "--config", str(config), "--offline", "--format", "json",
                        "--output", str(tmp_path / "out")], tmp_path, env={"AUDIT_SECRET_COMMAND_TIMEOUT": "0.5"})
    assert result.returncode == 2, result.stderr
    assert "tenant VAULT0 (tenants[0])" in result.stderr and "field stage.secret_key" in result.stderr
    assert reason in result.stderr
    assert "F" * 30 not in result.stdout + result.stderr and "resolved" not in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out" / "results.json").exists()


def test_a_missing_client_names_the_command(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "VAULT0"\n[tenants.live]\n'
                      'signing_secret = { command = ["no-such-vault-client-h16", "read", "x"] }\n')
    with pytest.raises(ConfigError) as caught:
        load_tenants(config)
    assert caught.value.field == "live.signing_secret"
    assert "'no-such-vault-client-h16' was not found" in str(caught.value)


def test_no_shell_reads_the_argv(tmp_path) -> None:
    marker = tmp_path / "injected"
    value = run_secret_command([sys.executable, "-c", "import sys; print(sys.argv[1])", f"x; touch {marker}"])
    assert value == f"x; touch {marker}" and not marker.exists()


def test_an_empty_command_is_rejected_by_the_loader(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "VAULT0"\n[tenants.stage]\nsecret_key = { command = [] }\n')
    with pytest.raises(ConfigError) as caught:
        load_tenants(config)
    assert caught.value.field == "stage.secret_key" and "command = " in str(caught.value)


def test_a_relative_command_runs_beside_the_tenant_file(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "tenants"
    folder.mkdir()
    client = folder / "get-secret"
    client.write_text(f"#!{sys.executable}\nprint('sk_test_' + 'R' * 30)\n")
    client.chmod(client.stat().st_mode | stat.S_IXUSR)
    (folder / "t.toml").write_text('[[tenants]]\ncompany_id = "REL0"\n[tenants.stage]\n'
                                   'secret_key = { command = ["./get-secret"] }\n')
    monkeypatch.chdir(tmp_path)
    (tenant,) = load_tenants("tenants/t.toml")
    assert next(iter(tenant.records.values())).secret_key.reveal() == "sk_test_" + "R" * 30


def test_size_cap_is_a_parameter(tmp_path) -> None:
    with pytest.raises(SecretCommandError, match="more than 1024 bytes"):
        run_secret_command([sys.executable, "-c", "print('k' * 4096)"], timeout=30, max_bytes=1024)
