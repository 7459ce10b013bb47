"""``audit run``: the fleet audit (the work is :func:`auditor.app.fleet.run_fleet`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditor.app.fleet import RunOptions, run_fleet
from auditor.commands.common import (
    ClickOutput,
    app_errors,
    config_option,
    formats_option,
    output_option,
    parse_formats,
    pop_source,
    severity_choice,
    stripe_options,
    waivers_option,
)
from auditor.commands.delivery import delivery_options, pop_delivery
from auditor.config import Environment
from auditor.progress import progress_reporter
from auditor.results import Severity
from auditor.rules.base import Settings
from auditor.terminal import use_color


@click.command("run")
@click.option("--all-tenants", is_flag=True, help="Audit every tenant in the tenant file.")
@click.option("--tenant", "company_ids", multiple=True, metavar="COMPANY_ID", help="Audit this tenant (repeatable).")
@click.option("--env", "env", type=click.Choice(["stage", "live", "both"]), default="both", show_default=True,
              help="Which records to audit.")
@config_option
@formats_option("run")
@output_option
@click.option("--offline", is_flag=True, help="Do not ask Stripe: only the record, tenant and fleet rules run.")
@click.option("--fail-on", type=severity_choice(), default="low", show_default=True,
              help="Lowest severity of a failed check that makes the exit code 1.")
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Records audited at once (the work waits on the network).")
@click.option("--processes", type=click.IntRange(1, 16), default=None,
              help="Worker processes sharing --workers (default: one per core, up to 4, for 200+ records).")
@stripe_options
@click.option("--delivery-window-days", type=click.IntRange(1, 30), default=7, show_default=True,
              help="How far back WH010 looks for events with failed deliveries.")
@click.option("--delivery-grace-minutes", type=click.IntRange(0, 1440), default=15, show_default=True,
              help="WH010 ignores failed events younger than this: Stripe may still be delivering them.")
@click.option("--save-evidence", "save_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write what Stripe answered for each record (redacted) to this folder.")
@waivers_option("A TOML file of [[waivers]]: accepted exceptions with reason, owner and expiry.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--severity", "min_severity", type=severity_choice(), default=None,
              help="Show and report only checks of this severity or above, in every format (and the exit code).")
@click.option("--rule", "rule_ids", multiple=True, metavar="RULE",
              help="Show and report only this rule's checks (ID or slug, repeatable), in every format.")
@click.option("--show-pass", is_flag=True, help="List passing records and checks in the table instead of one line.")
@click.option("--no-color", is_flag=True, help="No colour in the table (also when NO_COLOR is set).")
@delivery_options
@app_errors
def run_command(all_tenants: bool, company_ids: tuple[str, ...], env: str, config: Path, formats: tuple[str, ...],
                output: Path, offline: bool, fail_on: str, workers: int, processes: int | None,
                delivery_window_days: int, delivery_grace_minutes: int, save_dir: Path | None,
                waivers_file: Path | None, quiet: bool, min_severity: str | None, rule_ids: tuple[str, ...],
                show_pass: bool, no_color: bool, **more: Any) -> int:
    """Audit tenants' stage and live Stripe records and report every deviation with its fix.

    \b
    Examples:
      audit run --all-tenants --config tenants.toml
      audit run --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,json --output reports/
      audit run --all-tenants --offline --fail-on high
      audit run --all-tenants --config samples/tenants.toml --evidence samples/evidence
      audit run --all-tenants --severity high --rule WH006 --format table,csv
    """
    chosen = parse_formats(formats, "run")
    delivery = pop_delivery(more)
    source = pop_source(more, offline=offline)
    if all_tenants == bool(company_ids):
        raise click.UsageError("give either --all-tenants or --tenant COMPANY_ID (repeatable)")
    options = RunOptions(
        config=config, company_ids=company_ids, formats=chosen, output=output, source=source,
        environments=(Environment.STAGE, Environment.LIVE) if env == "both" else (Environment(env),),
        fail_on=Severity(fail_on), workers=workers, processes=processes,
        settings=Settings(delivery_window_days=delivery_window_days, delivery_grace_minutes=delivery_grace_minutes),
        save_dir=save_dir, waivers_file=waivers_file, min_severity=Severity(min_severity) if min_severity else None,
        rule_names=rule_ids, color=use_color(no_color), show_pass=show_pass, delivery=delivery)
    return run_fleet(options, ClickOutput(), lambda total: progress_reporter(total, enabled=not quiet)).exit_code
