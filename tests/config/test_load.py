"""The tenant file loader: values as entered, secrets resolved, every mistake named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.config import ConfigError, Environment, load_tenants

PK = "pk_test_5" + "1AbCdEfGhIjKlMnO" + "p" * 30
SK = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "s" * 30
WH = "whsec_" + "w" * 32


def write(tmp_path: Path, text: str, name: str = "tenants.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def tenant_toml(company_id: str = "ACME0000000000000001", secret: str = f'"{SK}"', extra: str = "") -> str:
    return f'''
[[tenants]]
company_id = "{company_id}"
name = "Acme"
{extra}
[tenants.stage]
account_id = "acct_1AbCdEfGhIjKlMnO"
publishable_key = "{PK}"
secret_key = {secret}
signing_secret = "{WH}"
'''


def test_loads_a_tenant_with_literal_secrets(tmp_path: Path) -> None:
    [tenant] = load_tenants(write(tmp_path, tenant_toml()))
    record = tenant.record(Environment.STAGE)
    assert tenant.company_id == "ACME0000000000000001"
    assert tenant.record(Environment.LIVE) is None
    assert record.secret_key.reveal() == SK
    assert record.secret_key.origin == "inline"
    assert SK not in repr(record)  # never in a traceback


def test_env_and_file_secrets_resolve_relative_to_the_tenant_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ACME_SK", SK)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "wh").write_text(WH + "\n")  # echo-style final newline is the file's, not the key's
    text = tenant_toml(secret='{ env = "ACME_SK" }').replace(f'"{WH}"', '{ file = "secrets/wh" }')
    [tenant] = load_tenants(write(tmp_path, text))
    record = tenant.record(Environment.STAGE)
    assert (record.secret_key.origin, record.secret_key.reveal()) == ("env", SK)
    assert (record.signing_secret.origin, record.signing_secret.reveal()) == ("file", WH)


def test_values_are_kept_as_entered(tmp_path: Path) -> None:
    text = tenant_toml().replace(f'publishable_key = "{PK}"', f'publishable_key = "{PK} "')
    (tmp_path / "sk").write_text(SK + "\n\n")
    text = text.replace(f'secret_key = "{SK}"', 'secret_key = { file = "sk" }')
    [tenant] = load_tenants(write(tmp_path, text))
    record = tenant.record(Environment.STAGE)
    assert record.publishable_key == PK + " "
    assert record.secret_key.reveal() == SK + "\n"  # only the file's own final newline is dropped


def test_a_folder_reads_every_toml_file(tmp_path: Path) -> None:
    write(tmp_path, tenant_toml("A0000000000000000001"), "a.toml")
    write(tmp_path, tenant_toml("B0000000000000000002"), "b.toml")
    (tmp_path / "notes.txt").write_text("not a tenant file")
    assert [t.company_id for t in load_tenants(tmp_path)] == ["A0000000000000000001", "B0000000000000000002"]


def test_missing_record_fields_are_not_configuration_errors(tmp_path: Path) -> None:
    [tenant] = load_tenants(write(tmp_path, '[[tenants]]\ncompany_id = "X1"\n[tenants.live]\n'))
    record = tenant.record(Environment.LIVE)
    assert record.account_id is None and record.secret_key is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[tenants]]\ncompany_id = "X1"\nname = "A\n', "not valid TOML"),
        ('[[tenants]]\ncompany_id = "X1"\nnmae = "typo"\n', "field nmae: unknown key"),
        ('[[tenants]]\ncompany_id = "X1"\n[tenants.live]\nacount_id = "acct_1"\n', "field live.acount_id: unknown key"),
        ('[[tenants]]\nname = "No ID"\n', "field company_id: required field is missing"),
        ('[[tenants]]\ncompany_id = "X1"\n[[tenants]]\ncompany_id = "X1"\n', "used twice"),
        ('[[tenants]]\ncompany_id = "X1"\n[tenants.live]\nsecret_key = { env = "NOPE_NOT_SET_9" }\n',
         "environment variable NOPE_NOT_SET_9 is not set"),
        ('[[tenants]]\ncompany_id = "X1"\n[tenants.live]\nsecret_key = { file = "missing.txt" }\n',
         "secret file missing.txt does not exist"),
        ('[[tenants]]\ncompany_id = "X1"\n[tenants.live]\nsecret_key = 42\n', "a secret is a string"),
        ('[[tenants]]\ncompany_id = "X1"\n[tenants.live]\nsecret_key = { vault = "x" }\n', "a secret is a string"),
        ('[[tenants]]\ncompany_id = "  "\n', "company_id is empty"),
        ('[[tenant]]\ncompany_id = "X1"\n', "field tenant: unknown key"),
    ],
)
def test_configuration_errors_name_file_tenant_and_field(tmp_path: Path, text: str, expected: str) -> None:
    os.environ.pop("NOPE_NOT_SET_9", None)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_tenants(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message


def test_tenant_is_named_in_the_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[[tenants]]\ncompany_id = "ACME1"\n[tenants.stage]\npublishable = "pk"\n')
    with pytest.raises(ConfigError, match=r"tenant ACME1 \(tenants\[0\]\): field stage.publishable: unknown key"):
        load_tenants(path)


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[tenants]]\ncompany_id = "X1"\n\nname = = "x"\n')
    with pytest.raises(ConfigError, match="line 4"):
        load_tenants(path)


def test_duplicate_company_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, tenant_toml("SAME0000000000000001"), "a.toml")
    write(tmp_path, tenant_toml("SAME0000000000000001"), "b.toml")
    with pytest.raises(ConfigError, match=r"b.toml: tenant SAME0000000000000001: field company_id: .*used twice"):
        load_tenants(tmp_path)


def test_not_utf8_secret_folder_and_missing_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[[tenants]]\ncompany_id = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_tenants(bad)
    (tmp_path / "dir").mkdir()
    folder = write(tmp_path, '[[tenants]]\ncompany_id = "X1"\n[tenants.live]\nsecret_key = { file = "dir" }\n',
                   "f.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_tenants(folder)
    with pytest.raises(ConfigError, match="no such file"):
        load_tenants(tmp_path / "nope.toml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match=r"no \*\.toml"):
        load_tenants(empty)
