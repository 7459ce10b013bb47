"""``audit init`` and ``audit import``: onboarding a fleet without writing 400 tenants by hand."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from auditor.config import Environment, load_tenants
from tests.ops import run_audit

HEADER = ("company_id,name,contact,stage_account_id,stage_publishable_key,stage_secret_key,stage_signing_secret,"
          "live_account_id,live_publishable_key,live_secret_key,live_signing_secret")
LITERAL = "sk_live_" + "L" * 40


def _fake_pass(tmp_path: Path) -> dict[str, str]:
    """A `pass` on PATH that prints a signing secret, as the real client would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    client = bin_dir / "pass"
    client.write_text(f"#!{sys.executable}\nprint('whsec_' + 'P' * 32)\n")
    client.chmod(client.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_init_writes_a_starter_that_audits_once_its_secrets_exist(tmp_path) -> None:
    result = run_audit(["init"], tmp_path)
    assert result.returncode == 0, result.stderr
    starter = (tmp_path / "tenants.toml").read_text()
    assert starter.count("\n[[tenants]]\n") == 1 and "{ command = [" in starter and "# " in starter
    env = {**_fake_pass(tmp_path), "EXAMPLE_STAGE_STRIPE_SECRET_KEY": "sk_test_" + "S" * 30,
           "EXAMPLE_STAGE_STRIPE_SIGNING_SECRET": "whsec_" + "T" * 32,
           "EXAMPLE_LIVE_STRIPE_SECRET_KEY": "sk_live_" + "V" * 30}
    run = run_audit(["run", "--all-tenants", "--config", "tenants.toml", "--offline", "--format", "json",
                     "--output", "out"], tmp_path, env=env)
    assert run.returncode == 1, run.stderr  # the placeholders ("acct_...") are findings, not errors
    records = json.loads((tmp_path / "out" / "results.json").read_text())["records"]
    assert {(r["company_id"], r["environment"]) for r in records} == {("EXAMPLE0000000000001", "stage"),
                                                                        ("EXAMPLE0000000000001", "live")}
    wh001_live = next(c for r in records if r["environment"] == "live" for c in r["checks"] if c["rule"] == "WH001")
    assert wh001_live["status"] == "pass"  # the signing secret came from `pass show`


def test_init_never_overwrites(tmp_path) -> None:
    (tmp_path / "tenants.toml").write_text("# mine\n")
    result = run_audit(["init"], tmp_path)
    assert result.returncode == 2 and "already exists; not overwritten" in result.stderr
    assert (tmp_path / "tenants.toml").read_text() == "# mine\n"


def test_import_turns_a_csv_into_a_tenant_file_the_loader_reads(tmp_path, monkeypatch) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "acme_live_wh").write_text("whsec_" + "W" * 32 + "\n")
    csv_text = "\ufeff" + HEADER + "\n" + "\n".join([
        'ACME0000000000000001,"Acme ""Quotes"" \\ GmbH",ops@acme.test,acct_1Acme,pk_test_51Acme ,env:ACME_STAGE_SK,,'
        'acct_1Acme,pk_live_51Acme,command:' + sys.executable + ' -c "print(\'sk_live_\' + \'Q\' * 30)",'
        'file:secrets/acme_live_wh',
        ",,,,,,,,,,",  # a blank line in the spreadsheet
        "BETA0000000000000002,Beta Médien,,acct_1Beta,pk_test_51Beta,env:BETA_STAGE_SK,env:BETA_STAGE_WH,,,,",
    ]) + "\n"
    (tmp_path / "tenants.csv").write_text(csv_text, encoding="utf-8")
    result = run_audit(["import", "tenants.csv", "--output", "tenants.toml"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 tenants" in result.stderr
    monkeypatch.setenv("ACME_STAGE_SK", "sk_test_" + "A" * 30)
    monkeypatch.setenv("BETA_STAGE_SK", "sk_test_" + "B" * 30)
    monkeypatch.setenv("BETA_STAGE_WH", "whsec_" + "B" * 32)
    acme, beta = load_tenants(tmp_path / "tenants.toml")
    assert (acme.company_id, acme.name, acme.contact) == ("ACME0000000000000001", 'Acme "Quotes" \\ GmbH',
                                                          "ops@acme.test")
    assert set(acme.records) == {Environment.STAGE, Environment.LIVE} and set(beta.records) == {Environment.STAGE}
    stage, live = acme.records[Environment.STAGE], acme.records[Environment.LIVE]
    assert stage.publishable_key == "pk_test_51Acme "  # as entered: the trailing space is KEY001's to report
    assert stage.signing_secret is None and stage.secret_key.origin == "env"
    assert live.secret_key.origin == "command" and live.secret_key.reveal() == "sk_live_" + "Q" * 30
    assert live.signing_secret.origin == "file" and live.signing_secret.reveal() == "whsec_" + "W" * 32
    assert beta.name == "Beta Médien" and beta.contact is None


def test_import_reads_a_semicolon_export(tmp_path) -> None:
    (tmp_path / "t.csv").write_text("company_id;name;live_secret_key\nSEMI0000000000000001;Semi;env:SEMI_SK\n")
    result = run_audit(["import", "t.csv", "--output", "t.toml"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'secret_key = { env = "SEMI_SK" }' in (tmp_path / "t.toml").read_text()


def test_import_reports_every_rows_problems_at_once_and_writes_nothing(tmp_path) -> None:
    (tmp_path / "tenants.csv").write_text(HEADER + "\n" + "\n".join([
        "OK00000000000000001,Fine,,,,env:OK_SK,,,,,",
        f"BAD 1,Space,,,,env:X,,,,{LITERAL},",
        ",No id,,,,,,,,,",
        "OK00000000000000001,Twice,,,,,,,,,",
        "ENVBAD000000000001,Bad env,,,,env:1X,command:,,,,",
        'QUOTE0000000000001,Bad command,,,,command:op read "unclosed,,,,,',
        "WIDE0000000000000001,Too wide,,,,,,,,,,extra",
    ]) + "\n")
    result = run_audit(["import", "tenants.csv"], tmp_path)
    assert result.returncode == 2
    err = result.stderr
    assert "8 problems in tenants.csv; nothing written" in err, err
    for expected in ["row 3: column company_id: only ASCII letters and digits",
                     "row 3 (company_id BAD 1): column live_secret_key: not a secret reference",
                     "row 4: column company_id: empty",
                     "row 5 (company_id OK00000000000000001): company_id is also in row 2",
                     "row 6 (company_id ENVBAD000000000001): column stage_secret_key: env: needs a variable name",
                     "row 6 (company_id ENVBAD000000000001): column stage_signing_secret: command: names nothing",
                     "row 7 (company_id QUOTE0000000000001): column stage_secret_key: command: cannot be split",
                     "row 8: more cells than the header has columns"]:
        assert expected in err, expected
    assert LITERAL not in err and "L" * 20 not in err  # a pasted secret is never repeated
    assert not (tmp_path / "tenants.toml").exists()


@pytest.mark.parametrize("header, message", [
    ("name,contact", "the header has no company_id column"),
    ("company_id,stage_secret,live_secret_key", "unknown column(s) 'stage_secret'"),
])
def test_import_names_a_wrong_header(tmp_path, header, message) -> None:
    (tmp_path / "t.csv").write_text(header + "\nX,Y,Z\n")
    result = run_audit(["import", "t.csv"], tmp_path)
    assert result.returncode == 2 and message in result.stderr and "company_id, name, contact" in result.stderr


def test_import_overwrites_only_with_force(tmp_path) -> None:
    (tmp_path / "t.csv").write_text("company_id\nFORCE000000000000001\n")
    (tmp_path / "tenants.toml").write_text("# hand-edited\n")
    refused = run_audit(["import", "t.csv"], tmp_path)
    assert refused.returncode == 2 and "use --force" in refused.stderr
    assert (tmp_path / "tenants.toml").read_text() == "# hand-edited\n"
    forced = run_audit(["import", "t.csv", "--force"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert [t.company_id for t in load_tenants(tmp_path / "tenants.toml")] == ["FORCE000000000000001"]


def test_import_escapes_what_toml_forbids(tmp_path) -> None:
    from auditor.onboard import csv_to_toml

    name = 'Tab\there "q" back\\slash del\x7f ünï'
    text = csv_to_toml(f'company_id,name\nESC00000000000000001,"{name.replace(chr(34), chr(34) * 2)}"\n')
    (tmp_path / "t.toml").write_text(text, encoding="utf-8")
    assert load_tenants(tmp_path / "t.toml")[0].name == name
