"""``audit schema``: print the JSON Schema of results.json, for consumers to validate runs against."""

from __future__ import annotations

import click

from auditor.results import ExitCode
from auditor.schema import schema_text


@click.command("schema")
def schema_command() -> int:
    """Print the JSON Schema (draft 2020-12) of results.json (schema plenigo-stripe-audit/1).

    \b
    Examples:
      audit schema > plenigo-stripe-audit-1.schema.json
      audit schema | check-jsonschema --schemafile /dev/stdin out/results.json
    """
    click.echo(schema_text(), nl=False)
    return ExitCode.OK
