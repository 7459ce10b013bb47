"""``audit report RESULTS.json`` without the command line: render a saved run again, Stripe not asked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from auditor.app.errors import ResultsFileProblem
from auditor.app.output import Output
from auditor.app.reports import write_reports
from auditor.atomic import output_batch
from auditor.render import RenderOptions
from auditor.results import ExitCode, RunResult
from auditor.results_file import read_run
from auditor.validation import first_problem


@dataclass(frozen=True)
class ReportOptions:
    results: Path
    formats: tuple[str, ...] = ("html",)
    output: Path = Path(".")
    previous: Path | None = None  # an earlier results.json: the report shows what changed since


@dataclass(frozen=True)
class ReportOutcome:
    written: list[Path]
    exit_code: int


def render_report(options: ReportOptions, out: Output) -> ReportOutcome:
    """Read the saved run (and the earlier one), then write every chosen format from it alone."""
    run = load_results(options.results)
    earlier = load_results(options.previous) if options.previous else None
    with output_batch():  # the reports are put in place together, or none is
        written = write_reports(run, options.formats, options.output, RenderOptions(previous=earlier), out)
    return ReportOutcome(written=written, exit_code=ExitCode.OK)


def load_results(path: Path) -> RunResult:
    """A saved results.json, or a :class:`ResultsFileProblem` that says what is wrong with it."""
    try:
        return read_run(path)  # a large run record by record, into a spool; errors as from the whole text
    except FileNotFoundError:
        raise ResultsFileProblem(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ResultsFileProblem(f"{path}: cannot read the results file ({reason})") from None
    except json.JSONDecodeError as exc:
        raise ResultsFileProblem(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValidationError as exc:
        raise ResultsFileProblem(f"{path}: not a valid results file: {first_problem(exc)}") from None
    except ValueError as exc:
        raise ResultsFileProblem(f"{path}: not a results file of this tool ({exc})") from None
