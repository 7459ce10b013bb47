"""Hostile ``{ command = [...] }`` clients: what a bad day with a vault client looks like, and what it must not do."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from auditor.secret_command import SecretCommandError, run_secret_command
from tests.ops import run_audit

# prints the secret and exits 0, but first forks a helper (same process group, no setsid) that keeps
# standard output open: the read never sees its end, so the auditor gives up at the timeout.
DAEMON = """import os, sys, time
pid = os.fork()
if pid == 0:
    time.sleep(300)
    os._exit(0)
open(sys.argv[1], "w").write(str(pid))
print("sk_test_" + "D" * 30, flush=True)
"""


def _gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for its new parent (init) to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_a_helper_that_keeps_stdout_open_is_killed_with_the_client(tmp_path) -> None:
    script = tmp_path / "daemonizing-client.py"
    script.write_text(DAEMON)
    pid_file = tmp_path / "helper.pid"
    with pytest.raises(SecretCommandError, match=r"did not finish within 0\.5 s"):
        run_secret_command([sys.executable, str(script), str(pid_file)], timeout=0.5)
    helper = int(pid_file.read_text())
    for _ in range(600):  # SIGKILL was sent before the error was raised; only its delivery is awaited
        if _gone(helper):
            break
        time.sleep(0.05)
    alive = not _gone(helper)
    if alive:
        os.kill(helper, 9)
    assert not alive, "the client's helper outlived the failed secret command"


def test_a_nul_in_the_argv_is_a_configuration_error_not_a_traceback(tmp_path) -> None:
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenants]]\ncompany_id = "NUL1"\n[tenants.stage]\n'
                      'secret_key = { command = ["op", "read\\u0000op://vault/item"] }\n')
    result = run_audit(["run", "--all-tenants", "--config", str(config), "--offline", "--format", "json",
                        "--output", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "tenant NUL1" in result.stderr and "field stage.secret_key" in result.stderr
    assert "NUL character" in result.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_output_that_is_not_utf8_is_refused_without_showing_it(tmp_path) -> None:
    script = tmp_path / "latin1-client.py"
    script.write_text("import sys; sys.stdout.buffer.write(b'sk_test_\\xe4' + b'L' * 30 + b'\\n')\n")
    with pytest.raises(SecretCommandError) as caught:
        run_secret_command([sys.executable, str(script)], timeout=60)
    assert "not UTF-8" in str(caught.value) and "LLLL" not in str(caught.value)


def test_a_relative_client_name_is_looked_up_on_path_not_beside_the_tenant_file(tmp_path) -> None:
    """A bare name is PATH's, as in a shell: a file called `op` dropped beside the tenant file is not run."""
    folder = tmp_path / "tenants"
    folder.mkdir()
    planted = folder / "op"
    marker = str(tmp_path / "planted-ran")
    planted.write_text(f"#!{sys.executable}\nopen({marker!r}, 'w')\nprint('sk_test_' + 'P' * 30)\n")
    planted.chmod(planted.stat().st_mode | stat.S_IXUSR)
    (folder / "t.toml").write_text('[[tenants]]\ncompany_id = "PATH1"\n[tenants.stage]\n'
                                   'secret_key = { command = ["op", "read", "x"] }\n')
    result = run_audit(["run", "--all-tenants", "--config", str(folder / "t.toml"), "--offline"], tmp_path,
                       env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "'op' was not found" in result.stderr, result.stderr
    assert not (tmp_path / "planted-ran").exists()
