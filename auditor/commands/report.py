"""``audit report RESULTS.json``: render a saved run again (HTML, PDF, JUnit...), without asking Stripe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from auditor.atomic import output_batch
from auditor.commands.common import formats_option, output_option, parse_formats, write_outputs
from auditor.redact import scrub
from auditor.render import RenderOptions
from auditor.results import ExitCode, RunResult
from auditor.terminal import visible

REPORT_FORMATS = ("html", "pdf", "junit", "json", "table")
REPORT_FORMATS += ("prometheus",)


class ResultsFileError(click.ClickException):
    """A results file that cannot be read or is not this tool's: exit code 2, nothing written."""

    exit_code = ExitCode.USAGE

    def format_message(self) -> str:
        return f"error: {self.message}\nno report was written"

    def show(self, file: Any = None) -> None:
        click.echo(visible(scrub(self.format_message()), lines=True), err=True)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "the top level"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error.get('msg', 'invalid')}{more}"


def load_results(path: Path) -> RunResult:
    """A saved results.json, or a :class:`ResultsFileError` that says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"{path}: cannot read the results file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        return RunResult.from_json(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValidationError as exc:
        raise ResultsFileError(f"{path}: not a valid results file: {_first_problem(exc)}") from None
    except ValueError as exc:
        raise ResultsFileError(f"{path}: not a results file of this tool ({exc})") from None


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False))
@formats_option("html", REPORT_FORMATS)
@output_option
@click.option("--previous", type=click.Path(path_type=Path, dir_okay=False), metavar="OLD.json",
              help="An earlier results.json: the report shows what changed since.")
def report_command(results: Path, formats: tuple[str, ...], output: Path, previous: Path | None) -> int:
    """Render a saved results.json again (HTML, PDF, JUnit, ...), without asking Stripe.

    \b
    Examples:
      audit report out/results.json --format html,pdf --output out/
      audit report today.json --previous last-week.json --format html,pdf,junit --output reports/
    """
    chosen = parse_formats(formats, REPORT_FORMATS)
    run = load_results(results)
    earlier = load_results(previous) if previous else None
    with output_batch():  # the reports are put in place together, or none is
        write_outputs(run, chosen, output, RenderOptions(previous=earlier))
    return ExitCode.OK
