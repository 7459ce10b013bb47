"""``audit diff OLD.json NEW.json``: what changed between two runs, as a table."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from auditor.changes import Changes, compare
from auditor.commands.report import load_results
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
def diff_command(old: Path, new: Path) -> int:
    """Compare two saved runs: new failures, resolved failures, new errors, still failing.

    \b
    Example:
      audit diff history/results-20261116T060000Z.json history/results-20261123T060000Z.json
    """
    click.echo(visible(changes_text(compare(load_results(old), load_results(new))), lines=True), nl=False)
    return ExitCode.OK
