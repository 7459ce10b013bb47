"""Run history: each run's results stored (timestamped, atomically) to compare with the next.

``audit run --history DIR`` reads the most recent earlier run *before* storing
the new one, so the reports and the email can lead with what changed.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

from auditor.atomic import write_bytes_new
from auditor.results import RunResult
from auditor.results_file import read_run

log = logging.getLogger(__name__)
PATTERN = "results-*.json"
_NAME = re.compile(r"results-\d{8}T\d{6}Z-[0-9a-z-]+\.json")  # what this module writes; nothing else is pruned


def run_file_name(run: RunResult) -> str:
    """``results-20261123T060000Z-1795413600123456-4f2a9c1e.json``: the run's time, the storing time, a random part.

    Names sort by time, also within one second (the microseconds of storing);
    two runs sharing the folder (a manual run beside the scheduled one) get
    names of their own from the random part, and a rename that never replaces
    an existing file makes sure of it.
    """
    stored = time.time_ns() // 1000
    return f"results-{run.generated_at.strftime('%Y%m%dT%H%M%SZ')}-{stored:016d}-{secrets.token_hex(4)}.json"


def stored_runs(directory: Path) -> list[Path]:
    """Every stored run, oldest first."""
    if not Path(directory).is_dir():
        return []
    return sorted(path for path in Path(directory).glob(PATTERN) if _NAME.fullmatch(path.name))


def previous_run(directory: Path) -> RunResult | None:
    """The most recent stored run that can be read (a broken file is skipped, with a warning)."""
    for path in reversed(stored_runs(directory)):
        try:
            return read_run(path)  # a large run record by record, into a spool (auditor.results_file)
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable history file %s: %s", path, exc)
    return None


def store_run(directory: Path, run: RunResult, keep: int | None = None, written: Path | None = None) -> Path:
    """Store ``run`` under a name of its own and prune the history to the newest ``keep`` runs.

    ``written`` is this run's results.json when it was just written: copied, not encoded again.
    """
    from auditor.render import RenderOptions
    from auditor.render.json import JsonRenderer

    with ExitStack() as stack:
        if written is not None:
            source = stack.enter_context(open(written, "rb"))
            data: Iterable[bytes] = iter(lambda: source.read(1 << 20), b"")
        else:
            data = JsonRenderer().chunks(run, RenderOptions())
        path = write_bytes_new(Path(directory), lambda: run_file_name(run), data)
    if keep:
        prune(directory, keep, this_run=path)
    return path


def prune(directory: Path, keep: int, this_run: Path) -> None:
    """Delete all but the newest ``keep`` stored runs; never this run's own file, never anything else.

    Another run pruning at the same time may delete a file first: that is not an error.
    """
    for old in stored_runs(directory)[:-keep]:
        if old != this_run:
            old.unlink(missing_ok=True)
