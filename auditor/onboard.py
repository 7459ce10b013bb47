"""Onboarding: a commented starter tenant file, and a tenant file from a team's CSV export.

A fleet of 400 tenants is not typed by hand. ``audit import`` reads the list a
team already has and reports every row's problems at once (fixing a CSV one
error per run is how people give up). Secrets are never in the CSV: its secret
columns hold references (``env:NAME``, ``file:path``, ``command:client args``),
and a value that looks like a literal secret is refused without being repeated.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field

from pydantic import ValidationError

from auditor.config import TenantFileSpec

ENVIRONMENTS = ("stage", "live")
RECORD_FIELDS = ("account_id", "publishable_key", "secret_key", "signing_secret")
SECRET_FIELDS = ("secret_key", "signing_secret")
COLUMNS = ("company_id", "name", "contact") + tuple(f"{e}_{f}" for e in ENVIRONMENTS for f in RECORD_FIELDS)
# a Stripe secret in a column that is copied into the tenant file (a shifted row, the wrong key pasted)
_SECRET_PREFIX = re.compile(r"(?:(?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9]{8,}", re.IGNORECASE)

STARTER = '''\
# plenigo Stripe auditor: tenant file. One [[tenants]] table per tenant (plenigo companyID).
# Check it with:   audit run --all-tenants --config tenants.toml --offline
# Audit it with:   audit run --all-tenants --config tenants.toml --format table,json,html
#
# Secrets (secret_key, signing_secret) never belong in this file. Each is one of:
#   { env = "NAME" }                      an environment variable
#   { file = "path" }                     a file (relative to this file); one final newline is ignored
#   { command = ["op", "read", "op://Payments/Example live/secret key"] }
#                                         a vault client's output (no shell; 30 s timeout; run once per command)
# A literal string works too, but is reported (KEY007).
# Every field of a record is optional: what is missing is a finding, not an error.
# Many tenants? Write a CSV and run:  audit import tenants.csv --output tenants.toml

[[tenants]]
company_id = "EXAMPLE0000000000001"        # plenigo companyID, as in the Merchant Backend URL (letters and digits)
name = "Example Media GmbH"
contact = "payments@example-media.test"    # optional: who receives this tenant's findings by email

# Stage: Stripe test mode (Dashboard slider "Test mode" on). Leave the table out if there is none yet.
[tenants.stage]
account_id = "acct_..."                    # Settings -> Business -> Account details
publishable_key = "pk_test_..."            # Developers -> API keys
secret_key = { env = "EXAMPLE_STAGE_STRIPE_SECRET_KEY" }
signing_secret = { env = "EXAMPLE_STAGE_STRIPE_SIGNING_SECRET" }   # Developers -> Webhooks -> the endpoint

# Live: Stripe live mode. Leave the table out until the tenant goes live.
[tenants.live]
account_id = "acct_..."
publishable_key = "pk_live_..."
secret_key = { env = "EXAMPLE_LIVE_STRIPE_SECRET_KEY" }   # or { file = "/run/secrets/example_live_sk" }
signing_secret = { command = ["pass", "show", "stripe/example/live-signing-secret"] }
'''


class CsvImportError(Exception):
    """Problems that stop an import; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class _Row:
    company_id: str
    name: str | None = None
    contact: str | None = None
    records: dict[str, dict[str, object]] = field(default_factory=dict)


def csv_to_toml(text: str, source: str = "tenants.csv") -> str:
    """The tenant file for a CSV export; every problem of every row at once, or an :class:`CsvImportError`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=_delimiter(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    problems = _header_problems(header, source)
    if problems:
        raise CsvImportError(problems)
    reader.fieldnames = header
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):  # line 1 is the header
        if not any((v or "").strip() for k, v in raw.items() if k is not None):
            continue  # a blank line
        row, row_problems = _parse_row(raw, f"{source}: row {number}")
        problems += row_problems
        if row is None:
            continue
        if row.company_id in seen:
            problems.append(f"{source}: row {number} (company_id {row.company_id}): company_id is also in row "
                            f"{seen[row.company_id]}")
        seen.setdefault(row.company_id, number)
        rows.append(row)
    if not rows and not problems:
        problems.append(f"{source}: no tenant rows below the header")
    if problems:
        raise CsvImportError(problems)
    output = _render(rows, source)
    check_tenant_text(output, source)
    return output


def check_tenant_text(text: str, source: str) -> None:
    """Parse the written file and validate it with the tenant loader's own models (secrets are not resolved:
    their variables, files and vault clients live on the machine that runs the audit)."""
    try:
        TenantFileSpec.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:  # a bug here, not the user's: say so plainly
        problem = f"{source}: the tenant file made from it does not load ({exc}); please report this"
        raise CsvImportError([problem]) from exc


def _delimiter(text: str) -> str:
    """Comma, semicolon (a German spreadsheet's export) or tab: whichever the header line uses most."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def _header_problems(header: list[str], source: str) -> list[str]:
    problems = []
    if "company_id" not in header:
        problems.append(f"{source}: the header has no company_id column (expected columns: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        problems.append(f"{source}: unknown column(s) {', '.join(map(repr, unknown))} "
                        f"(expected columns: {', '.join(COLUMNS)})")
    doubled = sorted({h for h in header if header.count(h) > 1})
    if doubled:
        problems.append(f"{source}: column(s) {', '.join(doubled)} appear twice in the header")
    return problems


def _parse_row(raw: dict[str | None, str | None], where: str) -> tuple[_Row | None, list[str]]:
    """One CSV row as a tenant; its problems are named by row, company and column."""
    if raw.get(None):
        return None, [f"{where}: more cells than the header has columns"]
    values = {k: (v or "") for k, v in raw.items() if k is not None}
    pasted = _blank_pasted_secrets(values)
    company_id = values.get("company_id", "").strip()
    label = f"{where} (company_id {company_id})" if company_id else where
    problems = [f"{label}: column {column}: holds what looks like a Stripe secret (sk_…, rk_…, whsec_…); secrets "
                f"belong in the secret columns, as references — the cell is not shown" for column in pasted]
    if not company_id:
        if "company_id" not in pasted:
            problems.append(f"{where}: column company_id: empty")
    elif not (company_id.isascii() and company_id.isalnum()):
        problems.append(f"{where}: column company_id: only ASCII letters and digits, as in the Merchant Backend "
                        f"URL; found {company_id!r}")
    row = _Row(company_id=company_id, name=values.get("name", "").strip() or None,
               contact=values.get("contact", "").strip() or None)
    for env in ENVIRONMENTS:
        record: dict[str, object] = {}
        for name in RECORD_FIELDS:
            value = values.get(f"{env}_{name}", "")
            if not value.strip():
                continue
            if name in SECRET_FIELDS:
                ref, problem = secret_reference(value)
                if problem:
                    problems.append(f"{label}: column {env}_{name}: {problem}")
                    continue
                record[name] = ref
            else:
                record[name] = value  # as entered: a stray space is a finding of the rules, not ours to hide
        if record:
            row.records[env] = record
    return (row if company_id and not problems else None), problems


def _blank_pasted_secrets(values: dict[str, str]) -> list[str]:
    """The columns copied as entered that hold a Stripe secret; blanked, so that nothing repeats or writes it."""
    secret_columns = {f"{env}_{name}" for env in ENVIRONMENTS for name in SECRET_FIELDS}
    pasted = [c for c in values if c not in secret_columns and _SECRET_PREFIX.search(values[c])]
    for column in pasted:
        values[column] = ""
    return pasted


def secret_reference(text: str) -> tuple[dict[str, object] | None, str | None]:
    """``env:NAME`` / ``file:path`` / ``command:client args`` as the tenant file's table, or the problem.

    The problem never repeats the cell: a cell that is not a reference may be a pasted secret.
    """
    kind, sep, rest = text.strip().partition(":")
    kind, rest = kind.strip().lower(), rest.strip()
    if not sep or kind not in ("env", "file", "command"):
        return None, ("not a secret reference (use env:NAME, file:path or command:client args; "
                      "a secret itself does not belong in a CSV) — the cell is not shown")
    if not rest:
        return None, f"{kind}: names nothing"
    if _SECRET_PREFIX.search(rest):  # `command:echo sk_live_…` is the secret itself, written into the file
        return None, (f"{kind}: holds what looks like a Stripe secret (sk_…, rk_…, whsec_…); a reference names "
                      f"where the secret is, it does not contain it — the cell is not shown")
    if kind == "env":
        if not all(c.isalnum() or c == "_" for c in rest) or rest[0].isdigit():
            return None, "env: needs a variable name (letters, digits, underscores)"
        return {"env": rest}, None
    if kind == "file":
        return {"file": rest}, None
    try:
        argv = shlex.split(rest)  # words as a shell would split them; the command itself never sees a shell
    except ValueError as exc:
        return None, f"command: cannot be split into words ({exc})"
    return {"command": argv}, None


def _render(rows: list[_Row], source: str) -> str:
    lines = [f"# Tenant file imported from {source} by `audit import`. Edit freely; re-importing overwrites it",
             "# only with --force. Secrets are references (env, file, command), never values.", ""]
    for row in rows:
        lines.append("[[tenants]]")
        lines.append(f"company_id = {_toml_string(row.company_id)}")
        if row.name:
            lines.append(f"name = {_toml_string(row.name)}")
        if row.contact:
            lines.append(f"contact = {_toml_string(row.contact)}")
        for env, record in row.records.items():
            lines.append(f"[tenants.{env}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in record.items()]
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_string(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML forbids a raw DEL."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
