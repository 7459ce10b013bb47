"""Two runs sharing one --history folder at once: each keeps its own file, pruning takes only old runs.

Real concurrent writers: forked processes released together by a barrier,
storing runs of the same second into one folder.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

from auditor.history import previous_run, store_run, stored_runs
from auditor.results import RunResult

SECOND = datetime(2026, 11, 23, 6, 0, 0, tzinfo=UTC)
STORES = 30


def run_of(writer: int, n: int) -> RunResult:
    """A run of the same second for every writer, told apart by its config field."""
    run = RunResult(tool_version="test", config=f"writer-{writer}-run-{n}", generated_at=SECOND, records=[])
    run.summarise()
    return run


def _writer(folder: str, writer: int, barrier, keep: int | None) -> None:
    barrier.wait(timeout=60)
    for n in range(STORES):
        store_run(Path(folder), run_of(writer, n), keep=keep)


def store_concurrently(folder: Path, keep: int | None = None) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    writers = [context.Process(target=_writer, args=(str(folder), w, barrier, keep)) for w in range(2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [p.exitcode for p in writers] == [0, 0]


def stored_configs(folder: Path) -> list[str]:
    return [RunResult.from_json(path.read_text()).config for path in stored_runs(folder)]


def test_two_runs_storing_at_once_never_overwrite_each_other(tmp_path) -> None:
    store_concurrently(tmp_path)
    configs = stored_configs(tmp_path)
    expected = {f"writer-{w}-run-{n}" for w in range(2) for n in range(STORES)}
    assert len(configs) == 2 * STORES and set(configs) == expected, "every run's file is there, whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in stored_runs(tmp_path)), "no temp"


def test_pruning_at_once_keeps_the_newest_runs_and_nothing_else_is_touched(tmp_path) -> None:
    mine = {"results-notes.json": "my notes", "results-2026-backup.json": "{}", "keep-me.txt": "x"}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    store_concurrently(tmp_path, keep=3)
    configs = stored_configs(tmp_path)
    assert 3 <= len(configs) <= 4, configs  # the last pruner may not have seen the other's last file yet
    assert previous_run(tmp_path).config in {f"writer-{w}-run-{STORES - 1}" for w in range(2)}, "the newest is kept"
    assert {name: (tmp_path / name).read_text() for name in mine} == mine, "files not written by history stay"


def test_runs_stored_within_one_second_are_read_back_newest_first(tmp_path) -> None:
    for n in range(5):
        store_run(tmp_path, run_of(0, n))
    assert previous_run(tmp_path).config == "writer-0-run-4"
    assert stored_configs(tmp_path) == [f"writer-0-run-{n}" for n in range(5)]
