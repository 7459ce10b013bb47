"""Saved evidence: ``--save-evidence DIR`` writes it, ``--evidence DIR`` re-audits from it.

One JSON file per record, named after the company ID and environment, holding
exactly what Stripe answered (already redacted: the evidence model has no
secrets). It is what an auditor keeps as proof of what the tool saw.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from auditor.atomic import write_text_atomic
from auditor.config import Record, Tenant
from auditor.evidence import RecordEvidence
from auditor.redact import scrub, scrub_model

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def evidence_filename(company_id: str, environment: str) -> str:
    """A file name that is safe for any company ID (and unique even when cleaned)."""
    safe = _UNSAFE.sub("_", company_id)[:80]
    if safe != company_id:
        safe += "-" + hashlib.sha256(company_id.encode("utf-8")).hexdigest()[:8]
    return f"{safe}.{environment}.json"


def save_evidence(directory: Path, evidence: RecordEvidence) -> Path:
    path = directory / evidence_filename(evidence.company_id, evidence.environment)
    write_text_atomic(path, scrub(evidence.model_dump_json(indent=2)))  # Stripe's text may echo a secret
    return path


class SavedEvidenceSource:
    """Reads evidence saved earlier; a record with no saved file is ``not_asked``."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        env = record.environment.value
        path = self.directory / evidence_filename(tenant.company_id, env)
        if not path.exists():
            return RecordEvidence(company_id=tenant.company_id, environment=env,
                                  not_asked=f"no saved evidence for this record in {self.directory}")
        return scrub_model(RecordEvidence.model_validate_json(path.read_text(encoding="utf-8")))
