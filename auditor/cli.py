"""The ``audit`` command line: thin click commands over plain functions that return exit codes."""

from __future__ import annotations

import logging
import sys
import traceback

import click

from auditor import __version__
from auditor.commands.checklist import checklist_command
from auditor.commands.diff import diff_command
from auditor.commands.report import report_command
from auditor.commands.rules import explain_command, rules_command
from auditor.commands.run import run_command
from auditor.logs import setup_logging
from auditor.redact import scrub
from auditor.results import ExitCode


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="audit")
@click.option("-v", "--verbose", count=True,
              help="More log output on standard error (-vv: debug, with the stripe SDK's). Secrets are always masked.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log line, with company_id and environment (for log shippers).")
def cli(verbose: int, log_format: str) -> None:
    """Audit plenigo tenants' Stripe setups against the setup guide, read-only.

    \b
    Examples:
      audit run --all-tenants --config tenants.toml
      audit run --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,json
      audit explain WH006
      audit -v --log-format json run --all-tenants --format json,html --output latest/
    """
    setup_logging(verbose, log_format)


cli.add_command(run_command)
cli.add_command(rules_command)
cli.add_command(explain_command)
cli.add_command(report_command)
cli.add_command(checklist_command)
cli.add_command(diff_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never a traceback for a user's mistake)."""
    try:
        result = cli.main(args=argv, prog_name="audit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("\ninterrupted: no report was written for this run", err=True)
        return ExitCode.INTERRUPTED
    except Exception:  # a bug: say so, scrubbed, with an exit code of its own
        click.echo(scrub("internal error (please report it):\n" + traceback.format_exc()), err=True)
        return ExitCode.INTERNAL
    finally:
        logging.shutdown()
    return result if isinstance(result, int) else ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
