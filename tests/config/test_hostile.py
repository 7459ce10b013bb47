"""Hostile tenant files: whatever the bytes, the answer is exit 2 and a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.cli import main
from auditor.config import ConfigError, load_tenants

FIELDS = ["company_id", "name", "contact", "stage", "live", "account_id", "publishable_key", "secret_key",
          "signing_secret", "env", "file", "tenants", "nmae", "1", ""]
scalars = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.floats(allow_nan=False), st.dates())
toml_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)),
    max_leaves=12,
)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    return value.isoformat()  # a date


def _check_exit_2(tmp_path: Path, data: bytes, capsys) -> None:
    """A file either loads and audits (exit 0 or 1), or is refused with exit 2 and no output (also when empty)."""
    path = tmp_path / "tenants.toml"
    path.write_bytes(data)
    out_dir = tmp_path / "out"
    try:
        tenants = load_tenants(path)
        loads = True
    except ConfigError as exc:
        assert str(exc).startswith(str(path))
        loads = False
    code = main(["run", "--all-tenants", "--offline", "--config", str(path), "--format", "json",
                 "--output", str(out_dir)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    if loads and not any(t.records for t in tenants):  # nothing to audit is a usage error (SPEC), never green
        assert code == 2 and "nothing to audit" in err and not (out_dir / "results.json").exists()
    elif loads:
        assert code in (0, 1) and (out_dir / "results.json").exists()
        (out_dir / "results.json").unlink()
    else:
        assert code == 2 and "configuration error" in err and not (out_dir / "results.json").exists()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_arbitrary_bytes(tmp_path, capsys, data: bytes) -> None:
    _check_exit_2(tmp_path, data, capsys)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(FIELDS), toml_like, max_size=5), max_size=3))
def test_structured_but_wrong_tenants(tmp_path, capsys, tenants) -> None:
    text = "".join("[[tenants]]\n" + "".join(f'"{k}" = {_toml_value(v)}\n' for k, v in t.items()) for t in tenants)
    _check_exit_2(tmp_path, text.encode("utf-8"), capsys)


@pytest.mark.parametrize("company_id", ["ACME 0001", "ACME0001 ", "АCME0001", "ACME\u200b0001", "ACME-0001"])
def test_company_id_with_spaces_or_lookalikes_is_refused(tmp_path, company_id) -> None:
    path = tmp_path / "t.toml"
    path.write_text(f'[[tenants]]\ncompany_id = "{company_id}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="field company_id: company_id may hold only ASCII letters and digits"):
        load_tenants(path)


def test_unreadable_secret_file(tmp_path) -> None:
    import os
    secret = tmp_path / "sk"
    secret.write_text("sk_test_x")
    secret.chmod(0)
    if os.access(secret, os.R_OK):  # root reads anything
        pytest.skip("running as root: file permissions do not stop reads")
    path = tmp_path / "t.toml"
    path.write_text('[[tenants]]\ncompany_id = "A1"\n[tenants.live]\nsecret_key = { file = "sk" }\n')
    with pytest.raises(ConfigError, match="cannot be read"):
        load_tenants(path)


def test_ten_thousand_tenants_and_a_thousand_files(tmp_path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("".join(f'[[tenants]]\ncompany_id = "T{i:08d}"\n[tenants.live]\naccount_id = "acct_1"\n'
                           for i in range(10_000)))
    assert len(load_tenants(big)) == 10_000
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1000):
        (folder / f"{i:04d}.toml").write_text(f'[[tenants]]\ncompany_id = "F{i:08d}"\n')
    assert len(load_tenants(folder)) == 1000
