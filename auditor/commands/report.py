"""``audit report RESULTS.json``: render a saved run again (the work: auditor.app.report)."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.app.report import ReportOptions, render_report
from auditor.commands.common import ClickOutput, app_errors, formats_option, output_option, parse_formats


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False))
@formats_option("report")
@output_option
@click.option("--previous", type=click.Path(path_type=Path, dir_okay=False), metavar="OLD.json",
              help="An earlier results.json: the report shows what changed since.")
@app_errors
def report_command(results: Path, formats: tuple[str, ...], output: Path, previous: Path | None) -> int:
    """Render a saved results.json again (HTML, PDF, JUnit, ...), without asking Stripe.

    \b
    Examples:
      audit report out/results.json --format html,pdf --output out/
      audit report today.json --previous last-week.json --format html,pdf,junit --output reports/
    """
    options = ReportOptions(results=results, formats=parse_formats(formats, "report"), output=output,
                            previous=previous)
    return render_report(options, ClickOutput()).exit_code
