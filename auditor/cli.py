"""The ``audit`` command line: thin click commands over plain functions that return exit codes."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from typing import TYPE_CHECKING

import click

from auditor import __version__
from auditor.app.startup import collector_off, exiting
from auditor.atomic import OutputError, files_put_in_place, set_file_mode
from auditor.redact import scrub
from auditor.signals import Terminated, stop_on_signals
from auditor.signals import exit_code as interrupt_exit_code
from auditor.terminal import visible

if TYPE_CHECKING:
    from auditor.results import ExitCode

# name -> (module:attribute, the command's one-line summary for `audit --help`). A command's module (and
# with it the stripe SDK, pydantic, Jinja2, WeasyPrint) is imported only when that command runs or shows
# its own help, so `audit --help` and a mistyped command answer at once. tests/cli/test_lazy_commands.py
# holds each summary to the command's docstring.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("auditor.commands.run:run_command",
            "Audit tenants' stage and live Stripe records and report every deviation with its fix."),
    "rules": ("auditor.commands.rules:rules_command",
              "List the rule catalogue: ID, slug, severity, source, environments, title."),
    "explain": ("auditor.commands.rules:explain_command",
                "Explain one rule: what it checks, why it matters, how to fix it."),
    "report": ("auditor.commands.report:report_command",
               "Render a saved results.json again (HTML, PDF, JUnit, ...), without asking Stripe."),
    "checklist": ("auditor.commands.checklist:checklist_command",
                  "Walk the setup guide for one tenant and environment: every step checked, then READY or NOT READY."),
    "diff": ("auditor.commands.diff:diff_command",
             "Compare two saved runs: new failures, resolved failures, new errors, still failing."),
    "schema": ("auditor.commands.schema:schema_command",
               "Print the JSON Schema (draft 2020-12) of results.json (schema plenigo-stripe-audit/1)."),
    "init": ("auditor.commands.onboard:init_command",
             "Write a commented starter tenant file (never overwrites one)."),
    "import": ("auditor.commands.onboard:import_command",
               "Turn a CSV export (one row per tenant) into a tenant file; every row's problems are listed at once."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; the list in its help needs none of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, _, attribute = COMMANDS[name][0].partition(":")
            with collector_off():
                self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))  # as click.Group lays it out
        rows = [(name, self.commands[name].get_short_help_str(limit) if name in self.commands
                 else click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    from auditor.logs import setup_logging  # its scrubber is wanted only once a command runs

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



def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never a traceback for a user's mistake).

    Without ``argv`` it runs the process's own command line (``audit``, ``python -m auditor``), and the
    process ends right after: its final garbage collection is skipped (auditor.app.startup.exiting).
    """
    files_before = files_put_in_place()
    try:
        with stop_on_signals():
            result = cli.main(args=argv, prog_name="audit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return _codes().USAGE if exc.exit_code == 2 else exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:  # Ctrl-C, or SIGTERM/SIGHUP (auditor.signals)
        stop = exc.__cause__ if isinstance(exc.__cause__, Terminated) else exc  # click wraps it in Abort
        how = f" by {stop.name}" if isinstance(stop, Terminated) else ""
        done = ("the files already written are complete and nothing half-written was left"
                if files_put_in_place() > files_before else "no report was written for this run")
        click.echo(f"\ninterrupted{how}: {done}", err=True)
        return interrupt_exit_code(stop)
    except OutputError as exc:  # a full disk or an I/O error while writing: not a bug, and not 70
        click.echo(scrub(f"error: {exc}; nothing half-written was left"), err=True)
        return _codes().OUTPUT_FAILED
    except Exception:  # a bug: say so, scrubbed, with an exit code of its own
        report = scrub("internal error (please report it):\n" + traceback.format_exc())
        click.echo(visible(report, lines=True), err=True)
        return _codes().INTERNAL
    finally:
        logging.shutdown()
        if argv is None:
            exiting()
    return result if isinstance(result, int) else _codes().OK


def _codes() -> type[ExitCode]:
    """The exit codes (auditor.results, which imports pydantic: by now a command has usually loaded it)."""
    from auditor.results import ExitCode

    return ExitCode


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
