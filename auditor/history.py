"""Run history: each run's results stored (timestamped, atomically) to compare with the next.

``audit run --history DIR`` reads the most recent earlier run *before* storing
the new one, so the reports and the email can lead with what changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from auditor.atomic import write_bytes_atomic
from auditor.results import RunResult

log = logging.getLogger(__name__)
PATTERN = "results-*.json"


def run_file_name(run: RunResult, directory: Path) -> str:
    """``results-20261123T060000Z-000.json``: names that sort by time, unique within the second."""
    stem = f"results-{run.generated_at.strftime('%Y%m%dT%H%M%SZ')}"
    n = 0
    while (Path(directory) / f"{stem}-{n:03d}.json").exists():
        n += 1
    return f"{stem}-{n:03d}.json"


def stored_runs(directory: Path) -> list[Path]:
    """Every stored run, oldest first."""
    return sorted(Path(directory).glob(PATTERN)) if Path(directory).is_dir() else []


def previous_run(directory: Path) -> RunResult | None:
    """The most recent stored run that can be read (a broken file is skipped, with a warning)."""
    for path in reversed(stored_runs(directory)):
        try:
            return RunResult.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable history file %s: %s", path, exc)
    return None


def store_run(directory: Path, run: RunResult, keep: int | None = None, written: Path | None = None) -> Path:
    """Store ``run`` and prune the history to the newest ``keep`` runs.

    ``written`` is this run's results.json when it was just written: copied, not encoded again.
    """
    from auditor.render import RenderOptions
    from auditor.render.json import JsonRenderer

    path = Path(directory) / run_file_name(run, directory)
    if written is not None:
        with open(written, "rb") as source:
            write_bytes_atomic(path, iter(lambda: source.read(1 << 20), b""))
    else:
        write_bytes_atomic(path, JsonRenderer().chunks(run, RenderOptions()))
    if keep:
        for old in stored_runs(directory)[:-keep]:
            old.unlink(missing_ok=True)
    return path
