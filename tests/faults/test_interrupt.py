"""Ctrl-C during a run: out within two seconds, exit code 130, no half-written file."""

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


def test_sigint_stops_quickly_and_writes_nothing(tmp_path) -> None:
    config, world, _ = build_fleet(tmp_path / "fleet", tenants=30)
    out = tmp_path / "out"
    with StubStripe(world, latency=1.0) as stub:  # slow Stripe: the run is mid-flight when interrupted
        proc = subprocess.Popen(
            [sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config), "--stripe-api-base",
             stub.url, "--workers", "4", "--format", "json,html", "--output", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        deadline = time.monotonic() + 30
        while len(stub.requests) < 8 and time.monotonic() < deadline:  # wait until it is really auditing
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert elapsed < 2.0
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []
