"""samples/schedule on a bad day: a stop request to the wrapper, the exit codes the table forgot, and a
node_exporter that runs as another user than the audit."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.test_schedule import WRAPPER

# a stand-in for `audit`: says when it is ready, then waits for a stop request (at most 120 s) and ends as
# the real one does on SIGTERM/SIGHUP, with 128 + the signal's number
FAKE_AUDIT = """import pathlib, signal, sys, time
here = pathlib.Path(sys.argv[0]).parent
def stop(signum, frame):
    (here / "got").write_text(signal.Signals(signum).name)
    sys.exit(128 + signum)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGHUP, stop)
(here / "ready").write_text("1")
time.sleep(120)
"""

SHELLS = [s for s in ("/bin/sh", shutil.which("bash")) if s]


def _fake(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "audit"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _default_stop_signals() -> None:
    """As a scheduler starts a job: a suite run by a shell without job control would pass SIGINT on ignored,
    and a shell may not trap a signal ignored on entry."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _wait_for(path: Path) -> None:
    for _ in range(1200):  # a bound on a hung test, not a speed requirement
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path.name} never appeared")


def _wait_for_exit_of_group(pgid: int) -> None:
    """Give the audit the time to finish its stop, if it got one (a bound, not a speed requirement)."""
    for _ in range(100):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("sent, received, code", [(signal.SIGTERM, "SIGTERM", 143), (signal.SIGHUP, "SIGHUP", 129),
                                                  (signal.SIGINT, "SIGTERM", 143)])
def test_a_stop_request_to_the_wrapper_alone_reaches_the_audit(tmp_path, shell, sent, received, code) -> None:
    """Kubernetes, systemd and CI runners signal the job's main process; it must not die and orphan the audit."""
    fake = _fake(tmp_path, FAKE_AUDIT)
    log = tmp_path / "stderr.log"
    with open(log, "wb") as stderr_file:  # a file, not a pipe: an orphaned audit must not hold the test open
        wrapper = subprocess.Popen([shell, str(WRAPPER), "--all-tenants"], cwd=tmp_path, env={"AUDIT": str(fake),
                                   "PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=stderr_file, start_new_session=True, preexec_fn=_default_stop_signals)
    try:
        _wait_for(tmp_path / "ready")
        time.sleep(0.2)  # the shell reaches `wait` (a signal before it is handled just as well)
        wrapper.send_signal(sent)  # to the wrapper only, not its process group
        wrapper.wait(timeout=120)
        _wait_for_exit_of_group(wrapper.pid)
    finally:
        try:
            os.killpg(wrapper.pid, signal.SIGKILL)  # whatever is left of the group (only on failure)
        except ProcessLookupError:
            pass
        wrapper.wait()
    stderr = log.read_text()
    assert (tmp_path / "got").exists(), "the audit never heard of the stop request"
    assert (tmp_path / "got").read_text() == received
    assert wrapper.returncode == code, stderr
    assert f"exit {code}: interrupted" in stderr


@pytest.mark.parametrize("code, meaning", [(74, "could not be written"), (129, "interrupted")])
def test_the_wrapper_names_every_exit_code_of_the_main_readme(tmp_path, code, meaning) -> None:
    fake = _fake(tmp_path, f"import sys; sys.exit({code})\n")
    result = subprocess.run(["/bin/sh", str(WRAPPER), "--all-tenants"], cwd=tmp_path, capture_output=True, text=True,
                            env={"AUDIT": str(fake), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == code
    assert f"exit {code}: " in result.stderr and meaning in result.stderr


def _sample_file_mode(name: str, pattern: str) -> str:
    import re
    found = re.search(pattern, (WRAPPER.parent / name).read_text(), re.MULTILINE)
    assert found, f"{name} leaves the outputs private (0600): node_exporter, another user, cannot read metrics.prom"
    return found.group(1)


@pytest.mark.parametrize("name, pattern", [
    ("plenigo-stripe-audit.cron", r"\bAUDIT_FILE_MODE=([0-7]{3})\s"),
    ("plenigo-stripe-audit.service", r"^Environment=AUDIT_FILE_MODE=([0-7]{3})$"),
])
def test_node_exporter_in_the_audits_group_can_read_the_samples_metrics(tmp_path, name, pattern) -> None:
    """The samples point node_exporter's textfile collector (another user) at the output folder."""
    from tests.ops import SAMPLES, audit_command
    mode = _sample_file_mode(name, pattern)
    result = subprocess.run([*audit_command(), "run", "--all-tenants", "--config", str(SAMPLES / "tenants.toml"),
                             "--evidence", str(SAMPLES / "evidence"), "--format", "json,prometheus", "--output",
                             str(tmp_path / "state" / "latest"), "--quiet"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600, env={**os.environ, "AUDIT_FILE_MODE": mode})
    assert result.returncode == 1, result.stderr
    folder = tmp_path / "state" / "latest"
    group_can = stat.S_IRGRP | stat.S_IXGRP
    for path in (tmp_path / "state", folder):
        assert path.stat().st_mode & group_can == group_can, oct(path.stat().st_mode)
    metrics = (folder / "metrics.prom").stat().st_mode
    assert metrics & stat.S_IRGRP and not metrics & (stat.S_IROTH | stat.S_IWGRP)  # the group reads; nobody else
