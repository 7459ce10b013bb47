"""``audit init`` and ``audit import``: a starter tenant file, and a tenant file from a CSV export."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.atomic import write_text_atomic
from auditor.onboard import STARTER, CsvImportError, csv_to_toml
from auditor.results import ExitCode
from auditor.terminal import visible


class OnboardingError(click.ClickException):
    """Nothing was written: exit code 2, every problem listed."""

    exit_code = ExitCode.USAGE

    def show(self, file: object = None) -> None:
        click.echo(visible(f"error: {self.message}", lines=True), err=True)  # CSV cells may hold escapes


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), default="tenants.toml")
def init_command(path: Path) -> int:
    """Write a commented starter tenant file (never overwrites one).

    \b
    Examples:
      audit init                     # writes ./tenants.toml
      audit init tenants/fleet.toml
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as handle:  # "x": refuses an existing file, even in a race
            handle.write(STARTER)
    except FileExistsError:
        raise OnboardingError(f"{path} already exists; not overwritten (remove it or choose another name)") from None
    except OSError as exc:
        raise OnboardingError(f"{path}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"wrote {path}: edit the example tenant, then run\n"
               f"  audit run --all-tenants --config {path} --offline", err=True)
    return ExitCode.OK


@click.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default="tenants.toml",
              show_default=True, help="The tenant file to write.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def import_command(csv_file: Path, output: Path, force: bool) -> int:
    """Turn a CSV export (one row per tenant) into a tenant file; every row's problems are listed at once.

    \b
    Columns (header row; comma, semicolon or tab separated; only company_id is required):
      company_id, name, contact,
      stage_account_id, stage_publishable_key, stage_secret_key, stage_signing_secret,
      live_account_id, live_publishable_key, live_secret_key, live_signing_secret
    Secret columns hold references, never secrets:
      env:NAME   file:path   command:op read "op://Payments/Acme live/secret key"

    \b
    Examples:
      audit import tenants.csv --output tenants.toml
      audit import export.csv --output tenants/fleet.toml --force
    """
    if output.exists() and not force:
        raise OnboardingError(f"{output} already exists; not overwritten (use --force to replace it)")
    try:
        text = csv_file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise OnboardingError(f"{csv_file}: no such file") from None
    except UnicodeDecodeError as exc:
        raise OnboardingError(f"{csv_file}: not UTF-8 text (byte {exc.start}); export the CSV as UTF-8") from None
    except OSError as exc:
        raise OnboardingError(f"{csv_file}: cannot read ({exc.strerror or exc})") from None
    try:
        toml_text = csv_to_toml(text, source=str(csv_file))
    except CsvImportError as exc:
        count = len(exc.problems)
        raise OnboardingError(f"{count} problem{'s' if count != 1 else ''} in {csv_file}; nothing written:\n"
                                   + "\n".join(f"  {p}" for p in exc.problems)) from None
    write_text_atomic(output, toml_text)
    tenants = toml_text.count("[[tenants]]")
    click.echo(f"wrote {output}: {tenants} tenant{'s' if tenants != 1 else ''}; check it with\n"
               f"  audit run --all-tenants --config {output} --offline", err=True)
    return ExitCode.OK
