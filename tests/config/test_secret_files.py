"""Secret files as the loader reads them: where they are looked for, which line ending is the file's, what is
refused and how it is worded, and that every value read is registered for scrubbing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.config import ConfigError, Environment, load_tenants
from auditor.redact import scrub

CID = "SECRETFILES000000001"
KEY = "sk_test_51SecretFiles" + "f" * 40
FIELD = f"tenant {CID} (tenants[0]): field live.signing_secret: "


def tenant_file(folder: Path, source: str, name: str = "tenants.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'[[tenants]]\ncompany_id = "{CID}"\n[tenants.live]\nsigning_secret = {{ file = "{source}" }}\n')
    return path


def secret(path: Path | str) -> str:
    [tenant] = load_tenants(path)
    record = tenant.record(Environment.LIVE)
    assert record is not None and record.signing_secret is not None
    assert record.signing_secret.origin == "file"
    return record.signing_secret.reveal()


@pytest.mark.parametrize("content, value", [
    (KEY, KEY),
    (KEY + "\n", KEY),
    (KEY + "\r\n", KEY),
    (KEY + "\n\n", KEY + "\n"),
    (KEY + "\r\n\r\n", KEY + "\r\n"),
    (KEY + "\r", KEY + "\r"),
    (KEY + "\n\r", KEY + "\n\r"),
    (KEY + " \n", KEY + " "),
    ("\n" + KEY, "\n" + KEY),
    ("\n", ""),
    ("", ""),
], ids=["bare", "LF", "CRLF", "two LF", "two CRLF", "CR", "LF CR", "space LF", "leading LF", "only LF", "empty"])
def test_only_one_final_line_ending_is_the_file_s(tmp_path: Path, content: str, value: str) -> None:
    (tmp_path / "wh").write_bytes(content.encode())
    assert secret(tenant_file(tmp_path, "wh")) == value


def test_relative_names_are_relative_to_the_tenant_file_not_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "conf" / "secrets").mkdir(parents=True)
    (tmp_path / "conf" / "secrets" / "wh").write_text(KEY + "\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert secret(tenant_file(tmp_path / "conf", "secrets/wh")) == KEY
    assert secret(Path("..") / "conf" / "tenants.toml") == KEY


def test_a_tenant_file_named_without_a_folder_reads_from_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "wh").write_text(KEY + "\n")
    tenant_file(tmp_path, "wh")
    monkeypatch.chdir(tmp_path)
    assert secret("tenants.toml") == KEY
    assert secret(Path("tenants.toml")) == KEY


def test_an_absolute_name_is_read_as_given(tmp_path: Path) -> None:
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "wh").write_text(KEY + "\n")
    assert secret(tenant_file(tmp_path / "conf", str(tmp_path / "vault" / "wh"))) == KEY


@pytest.mark.parametrize("make, message", [
    (lambda folder: None, "secret file wh does not exist"),
    (lambda folder: (folder / "wh").write_bytes(b"\xff" + KEY.encode()), "secret file wh is not UTF-8 text"),
    (lambda folder: (folder / "wh").mkdir(), "secret file wh is a folder"),
    (lambda folder: os.mkfifo(folder / "wh"), "secret file wh is not a regular file (a device, FIFO or socket); "
                                              "give a file holding the secret"),
    (lambda folder: (folder / "wh").write_bytes(b"k" * 4097), "secret file wh is larger than 4096 bytes: not a "
                                                               "secret file"),
    (lambda folder: (folder / "wh").write_text("abc\n"), "the secret from wh has 3 character(s): too short to be a "
                                                         "real Stripe secret"),
], ids=["missing", "not UTF-8", "folder", "FIFO", "over the cap", "too short"])
def test_a_secret_file_that_cannot_be_used_is_a_configuration_error(tmp_path: Path, make, message: str) -> None:
    make(tmp_path)
    path = tenant_file(tmp_path, "wh")
    with pytest.raises(ConfigError) as caught:
        load_tenants(path)
    assert str(caught.value) == f"{path}: {FIELD}{message}"


def test_every_problem_of_a_tenant_is_listed_and_the_secrets_read_are_registered(tmp_path: Path) -> None:
    read = "whsec_" + "r" * 32 + "&irregular"  # an irregular secret: scrubbed only because it was registered
    (tmp_path / "read").write_text(read + "\n")
    path = tmp_path / "tenants.toml"
    path.write_text(f'[[tenants]]\ncompany_id = "{CID}"\n[tenants.stage]\nsecret_key = {{ file = "gone1" }}\n'
                    f'signing_secret = {{ file = "read" }}\n[tenants.live]\nsecret_key = {{ file = "gone2" }}\n')
    with pytest.raises(ConfigError) as caught:
        load_tenants(path)
    assert [line.strip() for line in str(caught.value).splitlines()[1:]] == [
        f"tenant {CID} (tenants[0]): field stage.secret_key: secret file gone1 does not exist",
        f"tenant {CID} (tenants[0]): field live.secret_key: secret file gone2 does not exist"]
    assert read not in scrub(f"the secret is {read}.")
