"""Pinned installs: requirements.lock pins (with hashes) everything pyproject.toml asks for, make installs
exactly it, and the venv the suite runs in holds exactly the locked versions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PROJECT = "plenigo-stripe-auditor"


def _name(requirement: str) -> str:
    """PEP 503 normalised project name of a requirement or a pin."""
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)).lower()


def _locked() -> dict[str, str]:
    return {_name(m.group(1)): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", LOCK.read_text(), re.MULTILINE)}


def _wanted() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["test"]


def test_every_requirement_is_pinned_with_hashes() -> None:
    locked = _locked()
    assert {_name(r) for r in _wanted()} - locked.keys() == set(), "run `make lock` after changing pyproject.toml"
    assert {"mypy", "ruff", "jsonschema", "prometheus-client", "pytest"} <= locked.keys()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n\n", 1)[-1])
    unhashed = [b.split("==")[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert unhashed == []


def test_pyproject_keeps_ranges_for_pip_install_dot() -> None:
    assert [r for r in _wanted() if "==" in r] == []


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_changed_lock_reinstalls_the_venv_from_it() -> None:
    plan = subprocess.run(["make", "-n", "-W", "requirements.lock", ".venv/.installed-stamp"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    assert "rm -rf .venv" in plan  # nothing unlocked survives a new lock
    # --no-deps: the lock is the whole set, so no resolver may pick a newer release from PyPI;
    # pip check proves that set satisfies every requirement (extras such as fonttools[woff] included)
    assert "--require-hashes --no-deps -r requirements.lock" in plan and "--no-deps --no-build-isolation -e ." in plan
    assert "pip check" in plan


def test_the_venv_holds_exactly_the_locked_versions() -> None:
    venv = ROOT / ".venv"
    if not venv.is_dir() or Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip(f"not running in the project's .venv ({sys.prefix}); `make test` runs there")
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable",
                             "--disable-pip-version-check"], capture_output=True, text=True, check=True).stdout
    installed = {}
    for line in freeze.splitlines():
        if line and not line.startswith(("#", "-e")) and "==" in line:
            name, _, version = line.partition("==")
            installed[_name(name)] = version.strip()
    installed.pop("pip", None)  # the venv's own installer, not a dependency
    installed.pop(PROJECT, None)
    assert installed == _locked()
