"""``audit rules`` (the catalogue as a table) and ``audit explain RULE_ID``."""

from __future__ import annotations

import click
from tabulate import tabulate

from auditor.results import ExitCode
from rules import all_rules, get_rule
from rules.base import Rule


@click.command("rules")
def rules_command() -> int:
    """List the rule catalogue: ID, slug, severity, source, environments, title.

    \b
    Example:
      audit rules
    """
    rows = [[r.id, r.slug, r.severity.value, r.source.value, _envs(r), r.title] for r in all_rules()]
    click.echo(tabulate(rows, headers=["ID", "slug", "severity", "source", "env", "checks"], tablefmt="simple"))
    return ExitCode.OK


@click.command("explain")
@click.argument("rule_id")
def explain_command(rule_id: str) -> int:
    """Explain one rule: what it checks, why it matters, how to fix it.

    \b
    Example:
      audit explain WH006
      audit explain events-complete
    """
    found = get_rule(rule_id)
    if found is None:
        raise click.UsageError(f"no rule {rule_id!r}; `audit rules` lists them all")
    click.echo(explain_text(found))
    return ExitCode.OK


def explain_text(rule: Rule) -> str:
    return "\n".join([
        f"{rule.id} {rule.slug} — {rule.title}",
        f"severity: {rule.severity.value}   source: {rule.source.value}   environments: {_envs(rule)}",
        "",
        "What it checks",
        f"  {rule.checks}",
        "",
        "Why it matters",
        f"  {rule.why}",
        "",
        "How to fix it (values in <…> are filled in per tenant)",
        *("  " + line for line in rule.remediation_template().splitlines()),
    ])


def _envs(rule: Rule) -> str:
    return ", ".join(sorted(e.value for e in rule.environments))
