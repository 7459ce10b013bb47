"""The one line at the top of every report: pass, fail or error, a headline and a detail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor.results import RecordStatus, RunResult


@dataclass(frozen=True)
class Verdict:
    """The one line at the top: ``pass``, ``fail`` or ``error``, a headline and a detail."""

    kind: str
    headline: str
    detail: str = ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def verdict(run: RunResult) -> Verdict:
    total = len(run.records)
    counts = Counter(r.status for r in run.records)
    failed, errored = counts[RecordStatus.FAIL], counts[RecordStatus.ERROR]
    if not total:
        return Verdict("error", "No record was audited.")
    if failed:
        detail = f"{failed:,} of {_plural(total, 'record')} fail at least one check"
        detail += f"; {errored:,} could not be audited." if errored else "."
        return Verdict("fail", "Action needed: findings to fix.", detail)
    if errored:
        return Verdict("error", "Incomplete: some records could not be audited.",
                       f"{errored:,} of {_plural(total, 'record')} could not be audited; the others pass.")
    return Verdict("pass", f"All {_plural(total, 'record')} pass every check.")
