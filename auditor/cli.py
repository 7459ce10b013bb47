"""The ``audit`` command line: thin click commands over plain functions that return exit codes."""

from __future__ import annotations

import logging
import sys
import traceback

import click

from auditor import __version__
from auditor.atomic import OutputError, files_put_in_place, set_file_mode
from auditor.commands.checklist import checklist_command
from auditor.commands.diff import diff_command
from auditor.commands.report import report_command
from auditor.commands.rules import explain_command, rules_command
from auditor.commands.onboard import import_command, init_command
from auditor.commands.run import run_command
from auditor.commands.schema import schema_command
from auditor.logs import setup_logging
from auditor.redact import scrub
from auditor.results import ExitCode
from auditor.signals import Terminated, stop_on_signals
from auditor.signals import exit_code as interrupt_exit_code
from auditor.terminal import visible


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="audit")
@click.option("-v", "--verbose", count=True,
              help="More log output on standard error (-vv: debug, with the stripe SDK's). Secrets are always masked.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log line, with company_id and environment (for log shippers).")
@click.option("--file-mode", envvar="AUDIT_FILE_MODE", default="600", show_default=True, metavar="OCTAL",
              callback=lambda ctx, param, value: _file_mode(value),
              help="Permissions of every file written (env AUDIT_FILE_MODE), e.g. 640 for a reading group; "
                   "folders get x where r is set. A stricter umask still applies.")
def cli(verbose: int, log_format: str, file_mode: int) -> None:
    """Audit plenigo tenants' Stripe setups against the setup guide, read-only.

    \b
    Examples:
      audit run --all-tenants --config tenants.toml
      audit run --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,json
      audit explain WH006
      audit -v --log-format json run --all-tenants --format json,html --output latest/
    """
    setup_logging(verbose, log_format)
    set_file_mode(file_mode)


def _file_mode(value: str) -> int:
    """Octal permissions with read and write for the owner and no special bits (600 ... 666)."""
    try:
        mode = int(value, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777 or mode & 0o600 != 0o600:
        raise click.BadParameter(f"{value!r} is not octal permissions with rw for the owner (e.g. 600 or 640)",
                                 param_hint="--file-mode")
    return mode


cli.add_command(run_command)
cli.add_command(rules_command)
cli.add_command(explain_command)
cli.add_command(report_command)
cli.add_command(checklist_command)
cli.add_command(diff_command)
cli.add_command(schema_command)
cli.add_command(init_command)
cli.add_command(import_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never a traceback for a user's mistake)."""
    files_before = files_put_in_place()
    try:
        with stop_on_signals():
            result = cli.main(args=argv, prog_name="audit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:  # Ctrl-C, or SIGTERM/SIGHUP (auditor.signals)
        stop = exc.__cause__ if isinstance(exc.__cause__, Terminated) else exc  # click wraps it in Abort
        how = f" by {stop.name}" if isinstance(stop, Terminated) else ""
        done = ("the files already written are complete and nothing half-written was left"
                if files_put_in_place() > files_before else "no report was written for this run")
        click.echo(f"\ninterrupted{how}: {done}", err=True)
        return interrupt_exit_code(stop)
    except OutputError as exc:  # a full disk or an I/O error while writing: not a bug, and not 70
        click.echo(scrub(f"error: {exc}; nothing half-written was left"), err=True)
        return ExitCode.OUTPUT_FAILED
    except Exception:  # a bug: say so, scrubbed, with an exit code of its own
        report = scrub("internal error (please report it):\n" + traceback.format_exc())
        click.echo(visible(report, lines=True), err=True)
        return ExitCode.INTERNAL
    finally:
        logging.shutdown()
    return result if isinstance(result, int) else ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
