"""Secret sources that are not secrets: devices, FIFOs, folders, huge files, values too short to be a key.

Each is a configuration error naming file, tenant and field (exit 2) before
anything is read: no run may hang on a FIFO or read /dev/zero until memory runs
out. The CLI runs in a child with its address space limited and a time bound,
so that the old behaviour fails the test instead of taking the machine down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.config import SECRET_FILE_LIMIT, ConfigError, load_tenants

ROOT = Path(__file__).resolve().parents[2]
CID = "SECRETSOURCE00000001"
KEY = "sk_test_51SecretSource" + "k" * 40


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _tenant_file(tmp_path: Path, source: str) -> Path:
    config = tmp_path / "tenants.toml"
    config.write_text(f'[[tenants]]\ncompany_id = "{CID}"\n[tenants.stage]\nsecret_key = {{ file = "{source}" }}\n')
    return config


def _run(tmp_path: Path, source: str, stdin: int | None = None) -> subprocess.CompletedProcess:
    config = _tenant_file(tmp_path, source)
    return subprocess.run([sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config),
                           "--offline", "--output", str(tmp_path / "out")], cwd=tmp_path, capture_output=True,
                          text=True, stdin=stdin, timeout=120, preexec_fn=_limit_memory,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _huge_sparse(tmp_path: Path) -> str:
    (tmp_path / "huge").write_bytes(b"")
    os.truncate(tmp_path / "huge", 8 << 30)  # 8 GiB that take no disk
    return "huge"


def _fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "fifo")  # nobody ever writes to it
    return "fifo"


def _folder(tmp_path: Path) -> str:
    (tmp_path / "folder").mkdir()
    return "folder"


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: "/dev/zero", "is not a regular file"),
    (_fifo, "is not a regular file"),
    (_huge_sparse, f"is larger than {SECRET_FILE_LIMIT} bytes"),
    (_folder, "is a folder"),
], ids=["dev-zero", "fifo", "huge-file", "folder"])
def test_secret_source_that_is_not_a_small_regular_file_is_a_configuration_error(tmp_path, make, expected) -> None:
    source = make(tmp_path)
    run = _run(tmp_path, source)
    assert run.returncode == 2, run.stderr
    assert f"tenants.toml: tenant {CID} (tenants[0]): field stage.secret_key: secret file {source} {expected}" \
        in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


def test_dev_stdin_held_open_by_a_silent_writer_is_refused_not_waited_for(tmp_path) -> None:
    read_end, write_end = os.pipe()
    try:
        run = _run(tmp_path, "/dev/stdin", stdin=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert run.returncode == 2, run.stderr
    assert "secret file /dev/stdin is not a regular file" in run.stderr


def test_file_one_byte_over_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path) -> None:
    (tmp_path / "big").write_bytes(b"k" * (SECRET_FILE_LIMIT + 1))
    expected = f"field stage.secret_key: secret file big is larger than {SECRET_FILE_LIMIT}"
    with pytest.raises(ConfigError, match=expected):
        load_tenants(_tenant_file(tmp_path, "big"))
    (tmp_path / "atcap").write_bytes(b"k" * SECRET_FILE_LIMIT)
    tenant, = load_tenants(_tenant_file(tmp_path, "atcap"))
    assert tenant.records.popitem()[1].secret_key.reveal() == "k" * SECRET_FILE_LIMIT


def test_symlink_to_a_regular_secret_file_is_still_read(tmp_path) -> None:
    (tmp_path / "real").write_text(KEY + "\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    tenant, = load_tenants(_tenant_file(tmp_path, "link"))
    assert tenant.records.popitem()[1].secret_key.reveal() == KEY


@pytest.mark.parametrize("spec", ['"ab"', '"x  "', '{ env = "SHORT_SECRET_FOR_TEST" }', '{ file = "short" }'])
def test_secret_under_four_characters_is_a_configuration_error(tmp_path, monkeypatch, spec) -> None:
    """A 1-3 character secret cannot be scrubbed without destroying every output, and no Stripe secret is one."""
    monkeypatch.setenv("SHORT_SECRET_FOR_TEST", "k9")
    (tmp_path / "short").write_text("abc\n")
    config = tmp_path / "tenants.toml"
    config.write_text(f'[[tenants]]\ncompany_id = "{CID}"\n[tenants.live]\nsigning_secret = {spec}\n')
    with pytest.raises(ConfigError, match=f"tenant {CID} .*field live.signing_secret: .*too short to be a real Stripe"):
        load_tenants(config)
    assert main_exit(config) == 2


def test_empty_and_four_character_secrets_are_left_to_the_rules(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text(f'[[tenants]]\ncompany_id = "{CID}"\n[tenants.live]\nsecret_key = ""\nsigning_secret = "abcd"\n')
    tenant, = load_tenants(config)
    assert tenant.records.popitem()[1].signing_secret.reveal() == "abcd"


def main_exit(config: Path) -> int:
    from auditor.cli import main
    return main(["run", "--all-tenants", "--config", str(config), "--offline", "--output", str(config.parent / "out")])
