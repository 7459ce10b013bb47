"""Outputs in a broken world: private files, a full disk, a bad folder, deep TOML, a signal while writing.

Through the real command line (in-process, or a subprocess where a signal or
a kernel file-size limit must hit the process itself).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.results import RunResult
from tests.faults.fleet import build_fleet
from tests.stub_stripe import StubStripe

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return build_fleet(tmp_path_factory.mktemp("fleet"), tenants=2)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def offline_run(config: Path, out: Path, *extra: str) -> int:
    return main(["run", "--all-tenants", "--config", str(config), "--offline", "--format", "json,html,junit",
                 "--output", str(out), "--quiet", *extra])


def modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in sorted(folder.rglob("*"))}


def _old_results() -> str:
    run = RunResult(tool_version="old", config="old.toml", records=[])
    run.summarise()
    return run.to_json()


_OLD_RESULTS = _old_results()  # a whole results.json of an earlier run (it must still be a valid one)


def previous_set(out: Path) -> dict[str, str]:
    """An output folder holding an earlier run's files."""
    out.mkdir(parents=True)
    old = {"results.json": _OLD_RESULTS, "report.html": "<p>old</p>", "junit.xml": "<old/>"}
    for name, text in old.items():
        (out / name).write_text(text)
    return old


def contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in out.iterdir()}


# --- files are private -----------------------------------------------------------------------------


def test_every_output_file_is_private_under_umask_022(fleet, tmp_path, umask_022, capsys) -> None:
    config, _, _ = fleet
    code = offline_run(config, tmp_path / "run" / "out", "--history", str(tmp_path / "run" / "history"),
                       "--save-evidence", str(tmp_path / "run" / "evidence"))
    capsys.readouterr()
    assert code == 0
    found = modes(tmp_path / "run")
    files = {name: mode for name, mode in found.items() if (tmp_path / "run" / name).is_file()}
    folders = {name: mode for name, mode in found.items() if name not in files}
    assert {"out/results.json", "out/report.html", "out/junit.xml"} <= set(files)
    assert any(name.startswith("history/results-") for name in files)
    assert any(name.startswith("evidence/") for name in files)
    assert set(files.values()) == {0o600}, files
    assert set(folders.values()) == {0o700}, folders


def test_file_mode_widens_on_request_and_a_stricter_umask_still_applies(fleet, tmp_path, umask_022,
                                                                         capsys) -> None:
    config, _, _ = fleet
    assert main(["--file-mode", "640", "run", "--all-tenants", "--config", str(config), "--offline",
                 "--format", "json", "--output", str(tmp_path / "group"), "--quiet"]) == 0
    assert modes(tmp_path / "group") == {"results.json": 0o640}
    os.umask(0o077)
    assert main(["--file-mode", "644", "run", "--all-tenants", "--config", str(config), "--offline",
                 "--format", "json", "--output", str(tmp_path / "strict"), "--quiet"]) == 0
    assert modes(tmp_path / "strict") == {"results.json": 0o600}
    assert main(["--file-mode", "466", "rules"]) == 2, "the owner must keep read and write"
    capsys.readouterr()


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_disk_is_exit_74_naming_the_file_and_leaves_the_previous_set(fleet, tmp_path, monkeypatch,
                                                                             capsys) -> None:
    """The second file's fsync finds the disk full (ENOSPC): nothing of this run is put in place."""
    config, _, _ = fleet
    out = tmp_path / "out"
    old = previous_set(out)
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    code = offline_run(config, out)
    err = capsys.readouterr().err
    assert code == 74, err
    assert f"could not write {out / 'report.html'}: No space left on device" in err
    assert "Traceback" not in err and "internal error" not in err
    assert contents(out) == old, "the earlier run's files are untouched, no temporary file is left"


def test_a_real_file_size_limit_while_writing_is_exit_74(fleet, tmp_path) -> None:
    """The kernel refuses the write (RLIMIT_FSIZE: EFBIG, as a full disk refuses with ENOSPC)."""
    config, _, _ = fleet
    out = tmp_path / "out"
    old = previous_set(out)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # results.json and report.html are larger

    proc = subprocess.run([sys.executable, "-m", "auditor", "run", "--all-tenants", "--config", str(config),
                           "--offline", "--format", "json,html", "--output", str(out), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, preexec_fn=limit, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 74, proc.stderr
    assert f"could not write {out / 'results.json'}: File too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert contents(out) == old


# --- a folder that cannot be written is found before Stripe is asked -----------------------------


@pytest.mark.parametrize("option", ["--output", "--history", "--save-evidence"])
def test_an_unwritable_folder_is_exit_2_before_any_stripe_request(fleet, tmp_path, option, capsys) -> None:
    config, world, _ = fleet
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folders = {"--output": tmp_path / "out", "--history": tmp_path / "history", "--save-evidence": tmp_path / "ev"}
    folders[option] = blocker / "reports"
    with StubStripe(world) as stub:
        code = main(["run", "--all-tenants", "--config", str(config), "--stripe-api-base", stub.url,
                     "--format", "json", "--quiet", *[a for o, f in folders.items() for a in (o, str(f))]])
        asked = list(stub.requests)
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{option}: cannot write to the folder {blocker / 'reports'}: Not a directory" in err
    assert "nothing was audited" in err and "Traceback" not in err
    assert asked == [], "no Stripe time is spent on a run whose report cannot be written"


# --- deeply nested TOML ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["tenants", "waivers"])
def test_deeply_nested_toml_is_a_configuration_error(fleet, tmp_path, which, capsys) -> None:
    config, _, _ = fleet
    deep = tmp_path / f"{which}.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    args = ["--config", str(deep)] if which == "tenants" else ["--config", str(config), "--waivers", str(deep)]
    code = main(["run", "--all-tenants", "--offline", "--format", "json", "--output", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"configuration error: {deep}" in err and "nested too deeply" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


# --- a signal while the outputs are written -------------------------------------------------------

SIGNAL_WHILE_WRITING = textwrap.dedent("""
    import os, signal, sys
    import auditor.render.{module} as target
    from auditor.cli import main

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    real = getattr(target, {func!r})
    setattr(target, {func!r}, interrupted)
    sys.exit(main(sys.argv[1:]))
""")


def run_with_sigterm_in(module: str, func: str, config: Path, out: Path) -> subprocess.CompletedProcess:
    code = SIGNAL_WHILE_WRITING.format(module=module, func=func)
    return subprocess.run([sys.executable, "-c", code, "run", "--all-tenants", "--config", str(config), "--offline",
                           "--format", "json,html,junit", "--output", str(out), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sigterm_while_writing_puts_nothing_of_the_run_in_place(fleet, tmp_path) -> None:
    """SIGTERM arrives while report.html is made, after results.json was written: the old set stays whole."""
    config, _, _ = fleet
    out = tmp_path / "out"
    old = previous_set(out)
    proc = run_with_sigterm_in("html", "build_view", config, out)
    assert proc.returncode == 143, proc.stderr
    assert "interrupted by SIGTERM: no report was written" in proc.stderr
    assert contents(out) == old, "no new results.json beside the old report, no temporary file"


def test_sigterm_while_putting_files_in_place_completes_the_set(fleet, tmp_path) -> None:
    """SIGTERM arrives during the first rename: it waits until the whole set is in place, then ends the run."""
    config, _, _ = fleet
    out = tmp_path / "out"
    previous_set(out)
    code = SIGNAL_WHILE_WRITING.replace("import auditor.render.{module} as target", "target = os").format(
        module="", func="replace")
    proc = subprocess.run([sys.executable, "-c", code, "run", "--all-tenants", "--config", str(config), "--offline",
                           "--format", "json,html,junit", "--output", str(out), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 143, proc.stderr
    assert "interrupted by SIGTERM: the files already written are complete" in proc.stderr
    new = contents(out)
    assert sorted(new) == ["junit.xml", "report.html", "results.json"]
    assert json.loads(new["results.json"])["summary"]["records"] == 4
    assert new["junit.xml"] != "<old/>" and new["report.html"] != "<p>old</p>"


def test_audit_report_puts_its_files_in_place_together(fleet, tmp_path, monkeypatch, capsys) -> None:
    """``audit report`` re-renders a saved run: a full disk on its second file leaves the first one out too."""
    config, _, _ = fleet
    assert offline_run(config, tmp_path / "saved") == 0
    out = tmp_path / "out"
    old = previous_set(out)
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    code = main(["report", str(tmp_path / "saved" / "results.json"), "--format", "html,junit", "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 74 and f"could not write {out / 'junit.xml'}: No space left on device" in err
    assert contents(out) == old


def test_audit_checklist_puts_its_html_and_pdf_in_place_together(tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    code = main(["checklist", "--tenant", "8XYM4WU2V6NJUM5LZ6C9", "--env", "live", "--config",
                 str(ROOT / "samples" / "tenants.toml"), "--evidence", str(ROOT / "samples" / "evidence"),
                 "--format", "html,pdf", "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 74 and "checklist-8XYM4WU2V6NJUM5LZ6C9-live.pdf: No space left on device" in err, err
    assert not out.exists() or list(out.iterdir()) == [], "the HTML is not put in place without the PDF"
