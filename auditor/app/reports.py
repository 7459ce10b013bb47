"""Writing a run's reports: every chosen format, files put in place atomically, the table to standard output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from auditor.app.errors import UsageProblem
from auditor.app.output import Output
from auditor.atomic import OutputError, check_writable, write_bytes_atomic
from auditor.render import FORMATS, RenderOptions, get_renderer

if TYPE_CHECKING:
    from auditor.results import RunResult


def write_reports(run: RunResult, formats: tuple[str, ...], output: Path, options: RenderOptions,
                  out: Output) -> list[Path]:
    """Render every format; files go to ``output``, the others to standard output. Returns the files written."""
    written: list[Path] = []
    for name in formats:
        renderer = get_renderer(name)
        filename = FORMATS[name].filename
        if filename is None:
            out.report(renderer.render(run, options).decode("utf-8"))
            continue
        chunks = getattr(renderer, "chunks", None)  # large outputs are written as they are made
        data = chunks(run, options) if chunks else renderer.render(run, options)
        written.append(write_bytes_atomic(Path(output) / filename, data))
    for path in written:
        out.note(f"wrote {path}")
    return written


def check_folders_writable(folders: dict[str, Path | None]) -> None:
    """Each folder given (by option name) exists or is created, and a file can be made in it.

    Checked before auditing, so that a wrong folder costs no Stripe time.
    """
    for option, folder in folders.items():
        if folder is None:
            continue
        try:
            check_writable(folder)
        except OutputError as exc:
            raise UsageProblem(f"{option}: cannot write to the folder {folder}: {exc.error.strerror or exc.error}"
                               "; nothing was audited") from None
