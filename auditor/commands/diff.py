"""``audit diff OLD.json NEW.json``: what changed between two runs, as a table or JSON; exit 1 on news."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate  # type: ignore[import-untyped]  # no hints; types-tabulate is not locked

from auditor.app.report import load_results
from auditor.changes import Changes, compare
from auditor.commands.common import app_errors
from auditor.redact import scrub
from auditor.results import ExitCode
from auditor.terminal import visible


def changes_text(changes: Changes) -> str:
    """New failures first, then resolved, new errors and what is still failing."""
    sections = [("New failures", changes.new_failures), ("Resolved", changes.resolved),
                ("New errors", changes.new_errors), ("Still failing", changes.still_failing)]
    parts = []
    for title, items in sections:
        if not items:
            continue
        rows = [[c.company_id, c.tenant[:30], c.environment, c.rule, c.severity, c.message[:70]] for c in items]
        parts.append(f"{title} ({len(items)})\n" + tabulate(
            rows, headers=["company ID", "tenant", "env", "rule", "severity", "message"], tablefmt="simple"))
    if changes.new_records:
        parts.append("Records new in this run: " + ", ".join(f"{c} {e}" for c, e in changes.new_records))
    if changes.removed_records:
        parts.append("Records no longer audited: " + ", ".join(f"{c} {e}" for c, e in changes.removed_records))
    summary = (f"{len(changes.new_failures)} new, {len(changes.resolved)} resolved, {len(changes.new_errors)} new "
               f"errors, {len(changes.still_failing)} still failing since {changes.previous_generated_at}")
    return "\n\n".join(parts + [summary]) + "\n"


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table for people, json for scripts.")
@app_errors
def diff_command(old: Path, new: Path, fmt: str) -> int:
    """Compare two saved runs: new failures, resolved failures, new errors, still failing.

    Exit code 1 when NEW has failures that OLD did not have, else 0: a CI step can gate on news.

    \b
    Examples:
      audit diff history/results-20261116T060000Z.json history/results-20261123T060000Z.json
      audit diff old.json new.json --format json | jq '.new_failures[].rule'
    """
    changes = compare(load_results(old), load_results(new))
    if fmt == "json":
        click.echo(scrub(json.dumps(changes_dict(changes), indent=2, ensure_ascii=False)))
    else:
        click.echo(visible(changes_text(changes), lines=True), nl=False)
    return ExitCode.FINDINGS if changes.new_failures else ExitCode.OK


def changes_dict(changes: Changes) -> dict[str, Any]:
    """The changes as plain data; the same sections and order as the table."""
    data = dataclasses.asdict(changes)
    for key in ("new_records", "removed_records"):
        data[key] = [{"company_id": c, "environment": e} for c, e in data[key]]
    return data
