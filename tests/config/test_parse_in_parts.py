"""A large tenant file parsed in parts on several processes: the same tenants, the same errors, as whole."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import auditor.config as config
from auditor.config import ConfigError, load_tenants
from auditor.redact import scrub

SK = "sk_test_5" + "1AbCdEfGhIjKlMnO" + "s" * 30
WH = "whsec_" + "w" * 32


def fleet_text(tmp_path: Path, tenants: int, preamble: str = "") -> str:
    (tmp_path / "secrets").mkdir(exist_ok=True)
    lines = [preamble]
    for i in range(tenants):
        cid = f"T{i:019d}"
        (tmp_path / "secrets" / f"{cid}_sk").write_text(f"{SK}{i}\n")
        lines += ["[[tenants]]", f'company_id = "{cid}"', f'name = "Tenant {i}"', "[tenants.stage]",
                  'account_id = "acct_1AbCdEfGhIjKlMnO"', f'secret_key = {{ file = "secrets/{cid}_sk" }}',
                  f'signing_secret = "{WH}{i}"', ""]
    return "\n".join(lines)


@pytest.fixture
def in_parts(monkeypatch):
    """Every file is parsed in parts (the real threshold is a megabyte), in three processes."""
    monkeypatch.setattr(config, "PARALLEL_FROM", 0)
    monkeypatch.setattr(config, "_cores", lambda: 3)
    parts: list[int] = []
    real = config._cut_at_tenants
    monkeypatch.setattr(config, "_cut_at_tenants", lambda text, count: parts.append(len(cut := real(text, count)))
                        or cut)
    forked = config.forked_map
    monkeypatch.setattr(config, "forked_map", lambda *args, **kw: parts.append(
        "parsed" if (result := forked(*args, **kw)) is not None else "failed") or result)
    return parts


def whole(path: Path) -> list[config.Tenant]:
    saved = config.PARALLEL_FROM
    config.PARALLEL_FROM = 10**12
    try:
        return load_tenants(path)
    finally:
        config.PARALLEL_FROM = saved


def test_parts_give_the_tenants_of_the_whole_file(tmp_path, in_parts) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(fleet_text(tmp_path, 30, preamble="# the fleet\n"))
    tenants = load_tenants(path)
    assert in_parts == [3, "parsed"]  # three processes parsed their parts
    assert [t.company_id for t in tenants] == [f"T{i:019d}" for i in range(30)]
    assert tenants == whole(path)
    assert all(t.records[config.Environment.STAGE].secret_key.reveal() == f"{SK}{i}" for i, t in enumerate(tenants))
    assert f"{SK}29" not in scrub(f"key {SK}29") and f"{WH}29" not in scrub(f"secret {WH}29")  # registered here


def test_a_header_inside_a_multiline_string_is_parsed_as_the_whole(tmp_path, in_parts) -> None:
    text = fleet_text(tmp_path, 6)
    middle = text.index("[[tenants]]", len(text) // 3)
    text = text[:middle] + 'note = """\n' + text[middle:middle + 12] + '"""\n' + text[middle:]
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    assert tomllib.loads(text)  # the file is valid TOML, the cut part would not be
    with pytest.raises(ConfigError) as cut:  # "note" is a typo of a tenant's key either way
        load_tenants(path)
    with pytest.raises(ConfigError) as uncut:
        whole(path)
    assert str(cut.value) == str(uncut.value)
    assert "note" in str(cut.value)
    assert in_parts == [3, "failed"]


@pytest.mark.parametrize("mistake", ["syntax", "static array", "other table", "duplicate", "missing file"])
def test_errors_read_as_for_the_whole_file(tmp_path, in_parts, mistake) -> None:
    text = fleet_text(tmp_path, 12)
    last = text.rindex("[[tenants]]")
    if mistake == "syntax":
        text = text[:last] + "company_id = = 1\n" + text[last:]
    elif mistake == "static array":
        text = "tenants = []\n" + text
    elif mistake == "other table":
        text = text[:last] + "[other]\nx = 1\n" + text[last:]
    elif mistake == "duplicate":
        text += '\n[[tenants]]\ncompany_id = "T0000000000000000000"\n'
    else:
        (tmp_path / "secrets" / "T0000000000000000011_sk").unlink()
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as cut:
        load_tenants(path)
    with pytest.raises(ConfigError) as uncut:
        whole(path)
    assert str(cut.value) == str(uncut.value)
