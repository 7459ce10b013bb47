"""``audit checklist``: the pre-go-live checklist for one tenant and environment."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.atomic import output_batch, write_bytes_atomic
from auditor.audit import audit_record, select_tenants
from auditor.checklist import Checklist, build_checklist
from auditor.collect.saved import SavedEvidenceSource
from auditor.commands.common import (
    config_option,
    formats_option,
    load_config_or_exit,
    load_waivers_or_exit,
    output_option,
    parse_formats,
    stripe_source_or_exit,
)
from auditor.commands.preflight import unknown_tenants_message
from auditor.config import Environment
from auditor.redact import scrub
from auditor.render.checklist import checklist_html, checklist_pdf, checklist_text, instructions_text
from auditor.render.table import use_color
from auditor.results import RunResult
from auditor.rules.base import FleetIndex, Settings

CHECKLIST_FORMATS = ("table", "html", "pdf", "json")


@click.command("checklist")
@click.option("--tenant", "company_id", required=True, metavar="COMPANY_ID", help="The tenant to check.")
@click.option("--env", "env", required=True, type=click.Choice(["live", "stage"]), help="The record to check.")
@config_option
@formats_option("table", CHECKLIST_FORMATS)
@output_option
@click.option("--stripe-api-base", envvar="STRIPE_API_BASE", metavar="URL",
              help="Send every request to this Stripe-compatible server (env STRIPE_API_BASE).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=20.0, show_default=True,
              help="Seconds to wait for one Stripe answer.")
@click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True, help="Retries of a read.")
@click.option("--evidence", "evidence_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Check against evidence saved with `audit run --save-evidence` instead of asking Stripe.")
@click.option("--waivers", "waivers_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Accepted exceptions; a waived critical item still blocks READY unless --accept-waived.")
@click.option("--accept-waived", is_flag=True, help="Let waived critical items count as passed for the verdict.")
@click.option("--instructions", is_flag=True,
              help="Print the setup steps with this tenant's values (no Stripe access needed) and stop.")
def checklist_command(company_id: str, env: str, config: Path, formats: tuple[str, ...], output: Path,
                      stripe_api_base: str | None, timeout: float, retries: int, evidence_dir: Path | None,
                      waivers_file: Path | None, accept_waived: bool, instructions: bool) -> int:
    """Walk the setup guide for one tenant and environment: every step checked, then READY or NOT READY.

    Exit codes: 0 READY, 1 NOT READY, 3 CANNOT CHECK (Stripe could not be asked), 2 configuration error.

    \b
    Examples:
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,pdf --output signoff/
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --instructions
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format json   # to standard output
    """
    chosen = parse_formats(formats, CHECKLIST_FORMATS)
    if "table" in chosen and "json" in chosen:
        raise click.BadParameter("table and json both go to standard output: choose one", param_hint="--format")
    fleet = load_config_or_exit(config)
    waivers = load_waivers_or_exit(waivers_file)
    found, unknown = select_tenants(fleet, [company_id])
    if unknown:
        raise click.UsageError(unknown_tenants_message(unknown, fleet, config))
    tenant, environment = found[0], Environment(env)
    if instructions:
        click.echo(instructions_text(build_checklist(tenant, environment, None)), nl=False)
        return 0
    record = tenant.record(environment)
    result = None
    if record is not None:
        source = SavedEvidenceSource(evidence_dir) if evidence_dir else stripe_source_or_exit(
            stripe_api_base, timeout, retries, Settings().delivery_window_days)
        result = audit_record(tenant, record, source, FleetIndex.build(fleet), Settings())
        if waivers:
            from auditor.waivers import apply_waivers

            run = RunResult(records=[result])
            apply_waivers(run, waivers, today=run.generated_at.date())
    checklist = build_checklist(tenant, environment, result, accept_waived=accept_waived)
    with output_batch():  # the HTML and the PDF are put in place together, or neither
        _write(checklist, chosen, output)
    return checklist.verdict.exit_code


def _write(checklist: Checklist, formats: list[str], output: Path) -> None:
    stem = f"checklist-{checklist.company_id}-{checklist.environment}"
    for name in formats:
        if name == "table":
            click.echo(checklist_text(checklist, color=use_color()), nl=False)
        elif name == "json":
            click.echo(scrub(checklist.model_dump_json(indent=2)))
        elif name == "html":
            path = write_bytes_atomic(output / f"{stem}.html", checklist_html(checklist).encode("utf-8"))
            click.echo(f"wrote {path}", err=True)
        else:
            path = write_bytes_atomic(output / f"{stem}.pdf", checklist_pdf(checklist))
            click.echo(f"wrote {path}", err=True)
