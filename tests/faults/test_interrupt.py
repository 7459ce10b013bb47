"""Ctrl-C during a run: out at once with exit code 130, and no half-written file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.faults.fleet import build_fleet
from tests.stub_stripe import StubStripe

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["/v1/account", "/v1/webhook_endpoints", "/v1/events"]
HANG_GUARD = 600  # seconds; far beyond any slow machine, short of a CI job's limit


def _ctrl_c_as_in_a_terminal() -> None:
    """The child starts with SIGINT's default action, as a command typed in a terminal does.

    A shell without job control starts background commands with SIGINT ignored, and a
    Python started that way keeps ignoring it (no KeyboardInterrupt): a suite run as
    ``make test &`` would otherwise fail this test, which looked like a flake under load.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_stops_without_waiting_for_stripe_and_writes_nothing(tmp_path) -> None:
    """Stripe never answers and the auditor would wait 300 s per read: only the interrupt can end the run.

    The run must then end at once (it does not join the threads still waiting on
    Stripe); HANG_GUARD only keeps a broken build from hanging CI.
    """
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=30)
    for entry in world.values():
        entry["faults"] = {"hang": PATHS}
    out = tmp_path / "out"
    with StubStripe(world) as stub:
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config), "--stripe-api-base",
             stub.url, "--workers", "4", "--timeout", "300", "--format", "json,html", "--output", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        # Wait for the reads to be in flight, however slow the machine: only the run ending first is a
        # failure. The bound is a guard against a hung build, not a speed limit.
        hung = time.monotonic() + HANG_GUARD
        while len(stub.requests) < 4 and proc.poll() is None and time.monotonic() < hung:
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before Stripe was asked: {proc.communicate()[1]}"
        assert len(stub.requests) >= 4, "no read reached Stripe"
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the run did not stop on Ctrl-C: it waited for Stripe") from None
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []


_SIGNAL_TO_A_WORKER = r"""
import signal, sys, threading
from auditor.parallel import in_threads

never = threading.Event()
started = threading.Barrier(3)

def stop(signum, frame):
    raise KeyboardInterrupt

def work(i):
    started.wait()
    never.wait()  # Stripe never answers

def deliver_to_a_worker():
    started.wait()
    worker = next(t for t in threading.enumerate() if t.name.startswith("audit-"))
    signal.pthread_kill(worker.ident, signal.SIGUSR1)  # the kernel may pick any thread for a process signal

signal.signal(signal.SIGUSR1, stop)
threading.Thread(target=deliver_to_a_worker, daemon=True).start()
try:
    list(in_threads([0, 1], work, workers=2))
except KeyboardInterrupt:
    print("stopped")
    sys.exit(130)
"""


def test_a_signal_the_kernel_hands_to_a_worker_thread_still_stops_the_run() -> None:
    """The handler runs only when the main thread runs bytecode: waiting for a result must not sleep through it.

    Deterministic: the signal is sent to a worker thread itself (``pthread_kill``), which is what the kernel
    may do with Ctrl-C or SIGTERM under load; before the fix the main thread waited for a result forever.
    """
    try:
        proc = subprocess.run([sys.executable, "-c", _SIGNAL_TO_A_WORKER], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        raise AssertionError("the main thread slept through a signal delivered to a worker thread") from None
    assert (proc.returncode, proc.stdout.strip()) == (130, "stopped"), proc.stderr
