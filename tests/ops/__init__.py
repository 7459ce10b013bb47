"""Tests of the operator's world: installs, vault secrets, metrics, schema, onboarding, schedules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def audit_command() -> list[str]:
    """The installed ``audit`` console script of the running venv (``python -m auditor`` outside one)."""
    script = Path(sys.executable).parent / "audit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "auditor"]


def run_audit(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``audit ARGS`` as a person runs it: its own process, its own exit code, output captured."""
    return subprocess.run([*audit_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, stdin=subprocess.DEVNULL)
