"""The progress bar on standard error, kept apart from the audit it reports on."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from auditor.audit import ProgressCallback
from auditor.results import RecordResult, RecordStatus


@contextmanager
def progress_reporter(total: int, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """Yield a callback that advances a bar, or None when standard error is no terminal."""
    if not enabled or total == 0 or not sys.stderr.isatty():
        yield None
        return
    counts = {"fail": 0, "error": 0}

    def label() -> str:
        return f"auditing ({counts['fail']} failing, {counts['error']} errors)"

    with click.progressbar(length=total, label=label(), file=sys.stderr, show_pos=True, show_eta=True) as bar:
        def advance(result: RecordResult) -> None:
            if result.status is not RecordStatus.PASS:
                counts[result.status.value] += 1
            bar.label = label()
            bar.update(1)

        yield advance
