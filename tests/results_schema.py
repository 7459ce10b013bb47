"""Validating results files against the published schema (``audit schema``), for tests and the suite-wide check."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from auditor.schema import RESULTS_SCHEMA

# what the auditor writes: --format json, and --history copies (results-<run time>Z-….json; a user's own
# results-backup.json in a history folder is not ours)
NAMES = ("results.json", "results-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z*.json")
_validator = Draft202012Validator(RESULTS_SCHEMA, format_checker=FormatChecker())


def problems(document: object) -> list[str]:
    """Every way ``document`` breaks the schema, as 'path: message' (empty: valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(_validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def written_results(folder: Path) -> list[Path]:
    """The results files under ``folder`` (the auditor's own names only: hand-made broken inputs are not outputs)."""
    return sorted({p for name in NAMES for p in Path(folder).rglob(name) if p.is_file()})


def check_file(path: Path) -> list[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"not readable JSON: {exc}"]
    return problems(document)
