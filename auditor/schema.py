"""The published JSON Schema of ``results.json`` (``audit schema`` prints it).

Consumers validate runs and generate clients from it, so it is strict where
SPEC.md names a field (its type, its allowed values, that it is there) and open
elsewhere: new fields may be added within ``plenigo-stripe-audit/1``; only a
change that breaks a consumer (a field removed, renamed or retyped, a new status
value) makes a ``/2``. See README "The results schema".
"""

from __future__ import annotations

import json
from typing import Any

from auditor.results import SCHEMA, CheckStatus, EndpointRole, RecordStatus, Severity

SCHEMA_ID = "urn:plenigo:stripe-audit:results:1"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def _enum(values: Any) -> dict[str, Any]:
    return {"type": "string", "enum": [v.value for v in values]}


_COUNT = {"type": "integer", "minimum": 0}
_TEXT_OR_NULL = {"type": ["string", "null"]}

_WAIVER = {
    "type": "object",
    "description": "The accepted exception that turned a failing check into 'waived'.",
    "required": ["reason", "approved_by", "expires"],
    "properties": {
        "reason": {"type": "string"},
        "approved_by": {"type": "string"},
        "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "company_id": {"type": "string"},
        "environment": _TEXT_OR_NULL,
    },
}

_CHECK = {
    "type": "object",
    "description": "One rule's verdict on one record.",
    "required": ["rule", "slug", "severity", "status", "message"],
    "properties": {
        "rule": {"type": "string", "pattern": r"^[A-Z]{2,5}[0-9]{3}$", "description": "Stable rule ID, e.g. WH006."},
        "slug": {"type": "string", "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*$"},
        "severity": _enum(Severity),
        "status": _enum(CheckStatus),
        "message": {"type": "string"},
        "title": {"type": "string"},
        "details": {"type": "object", "description": "Rule-specific facts (missing events, expected and found URL)."},
        "remediation": {**_TEXT_OR_NULL, "description": "The fix, with the tenant's own values."},
        "waiver": {"oneOf": [{"type": "null"}, _WAIVER]},
    },
}

_RECORD = {
    "type": "object",
    "description": "One tenant's stage or live Stripe record and every check that concerns it.",
    "required": ["company_id", "tenant", "environment", "status", "checks"],
    "properties": {
        "company_id": {"type": "string", "pattern": "^[A-Za-z0-9]+$"},
        "tenant": {"type": "string"},
        "environment": {"type": "string", "enum": ["stage", "live"]},
        "status": _enum(RecordStatus),
        "checks": {"type": "array", "items": {"$ref": "#/$defs/check"}},
        "error": _TEXT_OR_NULL,
        "evidence": {"type": ["object", "null"], "description": "What Stripe answered (no secrets)."},
        "endpoint_roles": {
            "type": ["object", "null"],
            "description": "Webhook endpoint ID → how the engine judged it: 'chosen' is the endpoint the webhook "
                           "rules judged. null: no endpoint list was read.",
            "additionalProperties": _enum(EndpointRole),
        },
    },
}

_RULE = {
    "type": "object",
    "description": "A rule's metadata as the reports show it, recorded by the run.",
    "required": ["slug", "severity"],
    "properties": {
        "slug": {"type": "string", "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*$"},
        "severity": _enum(Severity),
        "title": {"type": "string"},
        "steps": {"type": "string", "description": "The generic steps to fix; <placeholders> for a record's values."},
    },
}

RESULTS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "plenigo Stripe compliance audit: results.json",
    "description": f"The canonical record of one audit run (schema {SCHEMA}). Fields may be added within /1.",
    "type": "object",
    "required": ["schema", "generated_at", "tool_version", "summary", "records"],
    "properties": {
        "schema": {"const": SCHEMA},
        "generated_at": {"type": "string", "format": "date-time", "pattern": _TIMESTAMP},
        "tool_version": {"type": "string"},
        "config": _TEXT_OR_NULL,
        "mode": {"type": "string", "description": "online, offline or evidence"},
        "duration_seconds": {"type": ["number", "null"], "minimum": 0},
        "summary": {
            "type": "object",
            "required": ["records", "pass", "fail", "error"],
            "properties": {"records": _COUNT, "pass": _COUNT, "fail": _COUNT, "error": _COUNT},
            "additionalProperties": _COUNT,
        },
        "records": {"type": "array", "items": {"$ref": "#/$defs/record"}},
        "notices": {"type": "array", "items": {"type": "string"}},
        "waiver_notices": {"type": "array", "items": {"type": "object"}},
        "rules": {
            "type": "object",
            "description": "Rule ID → metadata of every rule the run applied.",
            "propertyNames": {"pattern": r"^[A-Z]{2,5}[0-9]{3}$"},
            "additionalProperties": {"$ref": "#/$defs/rule"},
        },
    },
    "$defs": {"record": _RECORD, "check": _CHECK, "waiver": _WAIVER, "rule": _RULE},
}


def schema_text() -> str:
    """The schema as published: pretty-printed JSON with a final newline."""
    return json.dumps(RESULTS_SCHEMA, indent=2, ensure_ascii=False) + "\n"
