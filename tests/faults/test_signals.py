"""SIGTERM and SIGHUP to the parent alone (cron, systemd, Kubernetes) end the whole process tree.

A real ``audit run`` subprocess over a forked fleet, against a Stripe stub that
never answers; the signal goes to the parent only, never to its group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.fleet import build_fleet
from tests.stub_stripe import StubStripe

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["/v1/account", "/v1/webhook_endpoints", "/v1/events"]


def children_of(pid: int) -> set[int]:
    """Every descendant of ``pid`` (Linux: /proc/<pid>/task/*/children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:
            continue
    return found | {grandchild for child in found for grandchild in children_of(child)}


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie runs nothing; only its parent may reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition, limit: float = 60.0) -> bool:
    """Poll ``condition`` until it holds; the limit only keeps a broken build from hanging CI."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_to_the_parent_ends_every_worker_process(tmp_path, signum, code) -> None:
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=110)  # 220 records: forked workers
    for entry in world.values():
        entry["faults"] = {"hang": PATHS}
    out, log = tmp_path / "out", tmp_path / "stderr.txt"
    tree: set[int] = set()
    with StubStripe(world) as stub, open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config), "--stripe-api-base",
             stub.url, "--workers", "4", "--processes", "2", "--timeout", "300", "--format", "json,html",
             "--output", str(out), "--quiet"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert wait_for(lambda: len(children_of(proc.pid)) >= 2 and len(stub.requests) >= 4)
            tree = children_of(proc.pid)
            assert proc.poll() is None
            os.kill(proc.pid, signum)  # the parent alone, as systemd's KillMode=process or `kill PID` does
            proc.wait(timeout=60)
            leftovers = lambda: [pid for pid in tree if running(pid)]  # noqa: E731
            assert wait_for(lambda: not leftovers(), limit=30), f"worker processes still running: {leftovers()}"
        finally:
            for pid in [proc.pid, *tree]:  # a failed test must not leave processes behind either
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            proc.wait()
    err = log.read_text()
    assert proc.returncode == code, err
    assert f"interrupted by {signal.Signals(signum).name}" in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == [], "no report, and no temporary file, is left"


def test_sigterm_to_a_threaded_run_exits_143_and_leaves_nothing(tmp_path) -> None:
    """A small fleet runs on threads in one process: SIGTERM ends it like Ctrl-C, not by the default kill."""
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=10)
    for entry in world.values():
        entry["faults"] = {"hang": PATHS}
    out = tmp_path / "out"
    with StubStripe(world) as stub:
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config), "--stripe-api-base",
             stub.url, "--workers", "4", "--timeout", "300", "--format", "json,html", "--output", str(out),
             "--quiet"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert wait_for(lambda: len(stub.requests) >= 4)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 143, err
    assert "interrupted by SIGTERM: no report was written for this run" in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []
