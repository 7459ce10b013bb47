"""``audit run``: the fleet audit."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from auditor.atomic import output_batch
from auditor.audit import AuditPlan, run_audit, select_tenants
from auditor.collect.offline import OfflineSource
from auditor.collect.saved import SavedEvidenceSource, save_evidence
from auditor.commands.common import (
    config_option,
    formats_option,
    load_config_or_exit,
    load_waivers_or_exit,
    output_option,
    parse_formats,
    severity_choice,
    stripe_source_or_exit,
    writable_folders_or_exit,
    write_outputs,
)
from auditor.commands.delivery import Delivery, delivery_options
from auditor.commands.preflight import (
    NothingToAudit,
    check_stripe_reachable,
    unknown_tenants_message,
    why_nothing_selected,
)
from auditor.commands.rules import resolve_rules_or_exit
from auditor.config import Environment
from auditor.filters import filter_run
from auditor.progress import progress_reporter
from auditor.render import RenderOptions
from auditor.render.table import run_summary, terminal_width, use_color
from auditor.results import ExitCode, Severity
from auditor.rules.base import FleetIndex, Settings

RUN_FORMATS = ("table", "json", "html", "pdf", "junit", "csv", "prometheus")


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
@click.option("--severity", "min_severity", type=severity_choice(), default=None,
              help="Show and report only checks of this severity or above, in every format (and the exit code).")
@click.option("--rule", "rule_ids", multiple=True, metavar="RULE",
              help="Show and report only this rule's checks (ID or slug, repeatable), in every format.")
@click.option("--show-pass", is_flag=True, help="List passing records and checks in the table instead of one line.")
@click.option("--no-color", is_flag=True, help="No colour in the table (also when NO_COLOR is set).")
@delivery_options
def run_command(all_tenants: bool, company_ids: tuple[str, ...], env: str, config: Path, formats: tuple[str, ...],
                output: Path, offline: bool, fail_on: str, workers: int, processes: int | None, stripe_api_base: str | None,
                timeout: float, retries: int, delivery_window_days: int, delivery_grace_minutes: int,
                evidence_dir: Path | None, save_dir: Path | None, waivers_file: Path | None, quiet: bool,
                min_severity: str | None, rule_ids: tuple[str, ...], show_pass: bool, no_color: bool,
                **scheduled: Any) -> int:
    """Audit tenants' stage and live Stripe records and report every deviation with its fix.

    \b
    Examples:
      audit run --all-tenants --config tenants.toml
      audit run --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,json --output reports/
      audit run --all-tenants --offline --fail-on high
      audit run --all-tenants --config samples/tenants.toml --evidence samples/evidence
      audit run --all-tenants --severity high --rule WH006 --format table,csv
    """
    chosen_formats = parse_formats(formats, RUN_FORMATS)
    delivery = Delivery.pop_from(scheduled)
    if all_tenants == bool(company_ids):
        raise click.UsageError("give either --all-tenants or --tenant COMPANY_ID (repeatable)")
    if offline and evidence_dir:
        raise click.UsageError("--offline and --evidence exclude each other")
    rules_chosen = resolve_rules_or_exit(rule_ids)
    fleet_tenants = load_config_or_exit(config)
    waivers = load_waivers_or_exit(waivers_file)
    tenants = fleet_tenants
    if company_ids:
        tenants, unknown = select_tenants(fleet_tenants, company_ids)
        if unknown:
            raise click.UsageError(unknown_tenants_message(unknown, fleet_tenants, config))
    environments = (Environment.STAGE, Environment.LIVE) if env == "both" else (Environment(env),)
    settings = Settings(delivery_window_days=delivery_window_days, delivery_grace_minutes=delivery_grace_minutes)
    plan = AuditPlan(tenants=tenants, environments=environments, workers=workers, processes=processes,
                     settings=settings, config_path=str(config))
    if not plan.records():
        raise NothingToAudit(why_nothing_selected(tenants, environments, config, named=bool(company_ids)))
    if offline:
        source, mode = OfflineSource(), "offline"
    elif evidence_dir:
        source, mode = SavedEvidenceSource(evidence_dir), "evidence"
    else:
        source = stripe_source_or_exit(stripe_api_base, timeout, retries, delivery_window_days)
        mode = "online"
    writable_folders_or_exit({"--output": output if set(chosen_formats) - {"table"} else None,
                              "--save-evidence": save_dir, "--history": delivery.history})
    if mode == "online" and any(record.secret_key for _, record in plan.records()):  # else Stripe is not asked
        check_stripe_reachable(source.api_base, timeout)
    plan = replace(plan, mode=mode)
    previous = delivery.previous()
    started = time.monotonic()
    with progress_reporter(len(plan.records()), enabled=not quiet) as progress:
        run = run_audit(plan, source, progress=progress, fleet=FleetIndex.build(fleet_tenants))
    run.duration_seconds = round(time.monotonic() - started, 3)
    if waivers:
        from auditor.waivers import apply_waivers

        apply_waivers(run, waivers, today=run.generated_at.date())
    run = filter_run(run, Severity(min_severity) if min_severity else None, rules_chosen)
    options = RenderOptions(previous=previous, color=use_color(no_color),
                            extra={"width": terminal_width(), "show_pass": show_pass})
    with output_batch():  # the run's files are put in place together, or none is (a signal, a full disk)
        if save_dir is not None:
            for record in run.records:
                if record.evidence is not None:
                    save_evidence(save_dir, record.evidence)
        written = write_outputs(run, chosen_formats, output, options)
    mail_failed = delivery.deliver(run, previous, fleet_tenants, written)
    click.echo(run_summary(run, previous, written, history=delivery.history is not None), err=True)
    code = run.exit_code(Severity(fail_on))
    return ExitCode.with_mail_failure(code) if mail_failed else code
