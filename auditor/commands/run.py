"""``audit run``: the fleet audit."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from auditor.atomic import output_batch
from auditor.audit import AuditPlan, run_audit, select_tenants
from auditor.commands.common import (
    config_option, formats_option, load_config_or_exit, load_waivers_or_exit, output_option, parse_formats,
    severity_choice,
    stripe_source_or_exit, writable_folders_or_exit, write_outputs,
)
from auditor.collect.offline import OfflineSource
from auditor.commands.delivery import Delivery, delivery_options
from auditor.collect.saved import SavedEvidenceSource, save_evidence
from auditor.config import Environment
from auditor.progress import progress_reporter
from auditor.render import RenderOptions
from auditor.results import ExitCode, Severity
from rules.base import FleetIndex, Settings

RUN_FORMATS = ("table", "json", "html", "pdf", "junit")
RUN_FORMATS += ("prometheus",)


@click.command("run")
@click.option("--all-tenants", is_flag=True, help="Audit every tenant in the tenant file.")
@click.option("--tenant", "company_ids", multiple=True, metavar="COMPANY_ID", help="Audit this tenant (repeatable).")
@click.option("--env", "env", type=click.Choice(["stage", "live", "both"]), default="both", show_default=True,
              help="Which records to audit.")
@config_option
@formats_option("table", RUN_FORMATS)
@output_option
@click.option("--offline", is_flag=True, help="Do not ask Stripe: only the record, tenant and fleet rules run.")
@click.option("--fail-on", type=severity_choice(), default="low", show_default=True,
              help="Lowest severity of a failed check that makes the exit code 1.")
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Records audited at once (the work waits on the network).")
@click.option("--processes", type=click.IntRange(1, 16), default=None,
              help="Worker processes sharing --workers (default: one per core, up to 4, for 200+ records).")
@click.option("--stripe-api-base", envvar="STRIPE_API_BASE", metavar="URL",
              help="Send every request to this Stripe-compatible server (env STRIPE_API_BASE).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=20.0, show_default=True,
              help="Seconds to wait for one Stripe answer.")
@click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True,
              help="Retries of a read after HTTP 429, 5xx, a timeout or a connection error (with back-off).")
@click.option("--delivery-window-days", type=click.IntRange(1, 30), default=7, show_default=True,
              help="How far back WH010 looks for events with failed deliveries.")
@click.option("--delivery-grace-minutes", type=click.IntRange(0, 1440), default=15, show_default=True,
              help="WH010 ignores failed events younger than this: Stripe may still be delivering them.")
@click.option("--evidence", "evidence_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Re-audit from evidence saved with --save-evidence instead of asking Stripe.")
@click.option("--save-evidence", "save_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write what Stripe answered for each record (redacted) to this folder.")
@click.option("--waivers", "waivers_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A TOML file of [[waivers]]: accepted exceptions with reason, owner and expiry.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@delivery_options
def run_command(all_tenants: bool, company_ids: tuple[str, ...], env: str, config: Path, formats: tuple[str, ...],
                output: Path, offline: bool, fail_on: str, workers: int, processes: int | None, stripe_api_base: str | None,
                timeout: float, retries: int, delivery_window_days: int, delivery_grace_minutes: int, evidence_dir: Path | None, save_dir: Path | None,
                waivers_file: Path | None, quiet: bool, **scheduled: Any) -> int:
    """Audit tenants' stage and live Stripe records and report every deviation with its fix.

    \b
    Examples:
      audit run --all-tenants --config tenants.toml
      audit run --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,json --output reports/
      audit run --all-tenants --offline --fail-on high
      audit run --all-tenants --config samples/tenants.toml --evidence samples/evidence
    """
    chosen_formats = parse_formats(formats, RUN_FORMATS)
    delivery = Delivery.pop_from(scheduled)
    if all_tenants == bool(company_ids):
        raise click.UsageError("give either --all-tenants or --tenant COMPANY_ID (repeatable)")
    if offline and evidence_dir:
        raise click.UsageError("--offline and --evidence exclude each other")
    fleet_tenants = load_config_or_exit(config)
    waivers = load_waivers_or_exit(waivers_file)
    tenants = fleet_tenants
    if company_ids:
        tenants, unknown = select_tenants(fleet_tenants, company_ids)
        if unknown:
            raise click.UsageError(f"no tenant with company_id {', '.join(map(repr, unknown))} in {config}")
    settings = Settings(delivery_window_days=delivery_window_days, delivery_grace_minutes=delivery_grace_minutes)
    if offline:
        source, mode = OfflineSource(), "offline"
    elif evidence_dir:
        source, mode = SavedEvidenceSource(evidence_dir), "evidence"
    else:
        source = stripe_source_or_exit(stripe_api_base, timeout, retries, delivery_window_days)
        mode = "online"
    writable_folders_or_exit({"--output": output if set(chosen_formats) - {"table"} else None,
                              "--save-evidence": save_dir, "--history": delivery.history})
    previous = delivery.previous()
    environments = (Environment.STAGE, Environment.LIVE) if env == "both" else (Environment(env),)
    plan = AuditPlan(tenants=tenants, environments=environments, workers=workers, processes=processes,
                     settings=settings,
                     config_path=str(config), mode=mode)
    started = time.monotonic()
    with progress_reporter(len(plan.records()), enabled=not quiet) as progress:
        run = run_audit(plan, source, progress=progress, fleet=FleetIndex.build(fleet_tenants))
    run.duration_seconds = round(time.monotonic() - started, 3)
    if waivers:
        from auditor.waivers import apply_waivers

        apply_waivers(run, waivers, today=run.generated_at.date())
    with output_batch():  # the run's files are put in place together, or none is (a signal, a full disk)
        if save_dir is not None:
            for record in run.records:
                if record.evidence is not None:
                    save_evidence(save_dir, record.evidence)
        written = write_outputs(run, chosen_formats, output,
                                RenderOptions(previous=previous, color=sys.stdout.isatty()))
    mail_failed = delivery.deliver(run, previous, fleet_tenants, written)
    code = run.exit_code(Severity(fail_on)) if run.records else ExitCode.OK
    return ExitCode.with_mail_failure(code) if mail_failed else code
