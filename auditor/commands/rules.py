"""``audit rules`` (the catalogue as a table) and ``audit explain RULE_ID``."""

from __future__ import annotations

import json
from typing import Any

import click
from tabulate import tabulate  # type: ignore[import-untyped]  # no hints; types-tabulate is not locked

from auditor.app.preflight import unknown_rule_message
from auditor.results import ExitCode
from auditor.rules import all_rules, get_rule
from auditor.rules.base import Rule


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table for people, json for scripts.")
def rules_command(fmt: str) -> int:
    """List the rule catalogue: ID, slug, severity, source, environments, title.

    \b
    Examples:
      audit rules
      audit rules --format json
    """
    if fmt == "json":
        click.echo(json.dumps({"rules": [_rule_dict(r) for r in all_rules()]}, indent=2, ensure_ascii=False))
        return ExitCode.OK
    rows = [[r.id, r.slug, r.severity.value, r.source.value, _envs(r), r.title] for r in all_rules()]
    click.echo(tabulate(rows, headers=["ID", "slug", "severity", "source", "env", "checks"], tablefmt="simple"))
    return ExitCode.OK


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "slug": rule.slug, "severity": rule.severity.value, "source": rule.source.value,
            "environments": sorted(e.value for e in rule.environments), "title": rule.title, "checks": rule.checks,
            "why": rule.why, "remediation": rule.remediation_template()}


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
        raise click.UsageError(unknown_rule_message(rule_id))
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
