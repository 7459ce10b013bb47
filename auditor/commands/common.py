"""The command line's edge: shared options, options parsed into the app's dataclasses, app errors to click."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor.app.errors import NOT_AUDITED, USAGE, AppError, UsageProblem
from auditor.app.inputs import SourceOptions
from auditor.render import formats_for
from auditor.terminal import visible

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[F], F]


class AppFailure(click.ClickException):
    """An :class:`AppError` on its way out: its own text on standard error and its own exit code."""

    exit_code = USAGE

    def __init__(self, error: AppError) -> None:
        super().__init__(error.message)
        self.error = error

    def format_message(self) -> str:
        return self.error.text()

    def show(self, file: Any = None) -> None:
        text = self.format_message()
        click.echo(visible(text, lines=True) if self.error.holds_user_text else text, err=True)


class NotAuditedFailure(AppFailure):
    exit_code = NOT_AUDITED


_FAILURES: dict[int, type[AppFailure]] = {cls.exit_code: cls for cls in (AppFailure, NotAuditedFailure)}


def app_errors(command: F) -> F:
    """Let a command call the app: its usage problems become click's, its other stops keep their text."""

    @functools.wraps(command)
    def calling_the_app(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UsageProblem as exc:
            if exc.option is not None:
                raise click.BadParameter(exc.message, param_hint=exc.option) from None
            raise click.UsageError(exc.message) from None
        except AppError as exc:
            raise _FAILURES[exc.exit_code](exc) from None

    return calling_the_app  # type: ignore[return-value]  # functools.wraps keeps the signature click reads


class ClickOutput:
    """The app's :class:`~auditor.app.output.Output` on the terminal."""

    def report(self, text: str) -> None:
        click.echo(text, nl=False)

    def note(self, line: str) -> None:
        click.echo(line, err=True)


config_option: Decorator[Any] = click.option(
    "--config", type=click.Path(path_type=Path), default="tenants.toml", show_default=True,
    help="The tenant file, or a folder whose *.toml files are all read.")

output_option: Decorator[Any] = click.option(
    "--output", type=click.Path(path_type=Path, file_okay=False), default=".", show_default=True,
    help="Folder for the report files (results.json, report.html, ...).")


# What ``--format`` is when it is not given, or given empty (``--format ""``): each command's own.
DEFAULT_FORMAT: dict[str, str] = {"run": "table", "report": "html", "checklist": "table"}


def formats_option(command: str) -> Decorator[Any]:
    """``--format`` with the choices :data:`auditor.render.FORMATS` gives ``command``."""
    return click.option("--format", "formats", multiple=True, default=[DEFAULT_FORMAT[command]], show_default=True,
                        metavar="FORMAT[,FORMAT...]", help=f"Output formats: {', '.join(formats_for(command))}.")


def parse_formats(values: Iterable[str], command: str) -> tuple[str, ...]:
    """``--format table,json --format html`` → ("table", "json", "html"); none given: the command's default."""
    allowed = formats_for(command)
    chosen: list[str] = []
    for value in values:
        for name in (v.strip().lower() for v in value.split(",")):
            if not name:
                continue
            if name not in allowed:
                raise click.BadParameter(f"unknown format {name!r} (choose from {', '.join(allowed)})",
                                         param_hint="--format")
            if name not in chosen:
                chosen.append(name)
    return tuple(chosen) or (DEFAULT_FORMAT[command],)


def severity_choice() -> click.Choice[str]:
    from auditor.results import Severity

    return click.Choice([s.value for s in Severity])


def stripe_options(command: F) -> F:
    """--stripe-api-base, --timeout, --retries and --evidence: how ``run`` and ``checklist`` reach the evidence."""
    options = [
        click.option("--stripe-api-base", envvar="STRIPE_API_BASE", metavar="URL",
                     help="Send every request to this Stripe-compatible server (env STRIPE_API_BASE)."),
        click.option("--timeout", type=click.FloatRange(0.1, 300), default=20.0, show_default=True,
                     help="Seconds to wait for one Stripe answer."),
        click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True,
                     help="Retries of a read after HTTP 429, 5xx, a timeout or a connection error (with back-off)."),
        click.option("--evidence", "evidence_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
                     help="Audit evidence saved with `audit run --save-evidence` instead of asking Stripe."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def pop_source(kwargs: dict[str, Any], offline: bool = False) -> SourceOptions:
    """Take the options of :func:`stripe_options` out of a command's keyword arguments."""
    return SourceOptions(api_base=kwargs.pop("stripe_api_base"), timeout=kwargs.pop("timeout"),
                         retries=kwargs.pop("retries"), evidence_dir=kwargs.pop("evidence_dir"), offline=offline)


def waivers_option(help_text: str) -> Decorator[Any]:
    return click.option("--waivers", "waivers_file", type=click.Path(path_type=Path, dir_okay=False), help=help_text)
