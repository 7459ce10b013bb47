"""``audit checklist``: the pre-go-live checklist for one tenant and environment (the work: auditor.app.checklist)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditor.app.checklist import ChecklistOptions, run_checklist
from auditor.commands.common import (
    ClickOutput,
    app_errors,
    config_option,
    formats_option,
    output_option,
    parse_formats,
    pop_source,
    stripe_options,
    waivers_option,
)
from auditor.config import Environment
from auditor.terminal import use_color


@click.command("checklist")
@click.option("--tenant", "company_id", required=True, metavar="COMPANY_ID", help="The tenant to check.")
@click.option("--env", "env", required=True, type=click.Choice(["live", "stage"]), help="The record to check.")
@config_option
@formats_option("checklist")
@output_option
@stripe_options
@waivers_option("Accepted exceptions; a waived critical item still blocks READY unless --accept-waived.")
@click.option("--accept-waived", is_flag=True, help="Let waived critical items count as passed for the verdict.")
@click.option("--instructions", is_flag=True,
              help="Print the setup steps with this tenant's values (no Stripe access needed) and stop.")
@app_errors
def checklist_command(company_id: str, env: str, config: Path, formats: tuple[str, ...], output: Path,
                      waivers_file: Path | None, accept_waived: bool, instructions: bool, **more: Any) -> int:
    """Walk the setup guide for one tenant and environment: every step checked, then READY or NOT READY.

    Exit codes: 0 READY, 1 NOT READY, 3 CANNOT CHECK (Stripe could not be asked), 2 configuration error.

    \b
    Examples:
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format table,pdf --output signoff/
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --instructions
      audit checklist --tenant 8XYM4WU2V6NJUM5LZ6C9 --env live --format json   # to standard output
    """
    options = ChecklistOptions(config=config, company_id=company_id, environment=Environment(env),
                               formats=parse_formats(formats, "checklist"), output=output, source=pop_source(more),
                               waivers_file=waivers_file, accept_waived=accept_waived, color=use_color(),
                               instructions=instructions)
    return run_checklist(options, ClickOutput()).exit_code
