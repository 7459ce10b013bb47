"""Options and steps shared by the commands: tenant file, formats, outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from auditor.atomic import OutputError, check_writable, write_bytes_atomic
from auditor.config import ConfigError, Tenant, load_tenants
from auditor.render import RenderOptions, get_renderer
from auditor.results import ExitCode, RunResult, Severity
from auditor.terminal import visible

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class ConfigurationFailure(click.ClickException):
    """A configuration error: exit code 2, a message naming file, tenant and field."""

    exit_code = ExitCode.USAGE

    def format_message(self) -> str:
        return f"configuration error: {self.message}\nnothing was audited and no report was written"

    def show(self, file: Any = None) -> None:
        click.echo(visible(self.format_message(), lines=True), err=True)  # a tenant name may hold escapes


config_option: Decorator = click.option(
    "--config", type=click.Path(path_type=Path), default="tenants.toml", show_default=True,
    help="The tenant file, or a folder whose *.toml files are all read.")

output_option: Decorator = click.option(
    "--output", type=click.Path(path_type=Path, file_okay=False), default=".", show_default=True,
    help="Folder for the report files (results.json, report.html, ...).")


def formats_option(default: str, choices: Iterable[str]) -> Decorator:
    return click.option("--format", "formats", multiple=True, default=[default], show_default=True,
                        metavar="FORMAT[,FORMAT...]", help=f"Output formats: {', '.join(choices)}.")


def severity_choice() -> click.Choice:
    return click.Choice([s.value for s in Severity])


def parse_formats(values: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """``--format table,json --format html`` → ["table", "json", "html"], each known."""
    allowed = list(allowed)
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
    return chosen or [allowed[0]]


def load_config_or_exit(path: Path) -> list[Tenant]:
    try:
        return load_tenants(path)
    except ConfigError as exc:
        raise ConfigurationFailure(str(exc)) from None


def load_waivers_or_exit(path: Path | None) -> list:
    """The waivers of ``--waivers FILE`` (none without it); a malformed file is exit 2."""
    if path is None:
        return []
    from auditor.waivers import load_waivers

    try:
        return load_waivers(path)
    except ConfigError as exc:
        raise ConfigurationFailure(str(exc)) from None


def stripe_source_or_exit(api_base: str | None, timeout: float, retries: int, window_days: int):
    """The live Stripe source, or a usage error for an unsafe ``--stripe-api-base``."""
    from auditor.collect.stripe_api import StripeSource, validate_api_base

    try:
        base = validate_api_base(api_base) if api_base else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--stripe-api-base") from None
    return StripeSource(api_base=base, timeout=timeout, max_retries=retries, delivery_window_days=window_days)


def writable_folders_or_exit(folders: dict[str, Path | None]) -> None:
    """Each folder given (by option name) exists or is created, and a file can be made in it; else exit 2.

    Checked before auditing, so that a wrong folder costs no Stripe time.
    """
    for option, folder in folders.items():
        if folder is None:
            continue
        try:
            check_writable(folder)
        except OutputError as exc:
            raise click.UsageError(f"{option}: cannot write to the folder {folder}: {exc.error.strerror or exc.error}"
                                   "; nothing was audited") from None


def write_outputs(run: RunResult, formats: list[str], output: Path, options: RenderOptions | None = None) -> list[Path]:
    """Render every format; files go to ``output`` atomically, the table to standard output."""
    options = options or RenderOptions(color=sys.stdout.isatty())
    written: list[Path] = []
    for name in formats:
        renderer = get_renderer(name)
        if renderer.filename is None:
            click.echo(renderer.render(run, options).decode("utf-8"), nl=False)
            continue
        chunks = getattr(renderer, "chunks", None)  # large outputs are written as they are made
        data = chunks(run, options) if chunks else renderer.render(run, options)
        written.append(write_bytes_atomic(Path(output) / renderer.filename, data))
    for path in written:
        click.echo(f"wrote {path}", err=True)
    return written
