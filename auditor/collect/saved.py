"""Saved evidence: ``--save-evidence DIR`` writes it, ``--evidence DIR`` re-audits from it.

One JSON file per record, named after the company ID and environment, holding
exactly what Stripe answered (already redacted: the evidence model has no
secrets). It is what an auditor keeps as proof of what the tool saw.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic import ValidationError

from auditor.atomic import write_text_atomic
from auditor.collect.limits import DEFAULT_MAX_ANSWER_BYTES
from auditor.config import Record, Tenant
from auditor.evidence import ErrorKind, FetchError, RecordEvidence
from auditor.redact import scrub, scrub_model
from auditor.validation import first_problem

# the collector keeps far less than it reads: three reads of at most this many bytes each
MAX_SAVED_BYTES = 9 * DEFAULT_MAX_ANSWER_BYTES
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
        try:
            if not path.is_file():  # a directory, a pipe or a device (/dev/zero) would block or never end
                return self._unreadable(tenant, env, f"{path.name} is not a regular file")
            if (size := path.stat().st_size) > MAX_SAVED_BYTES:
                return self._unreadable(tenant, env, f"{path.name} is {size:,} bytes, more than the collector saves")
            evidence = RecordEvidence.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:  # its own words only: pydantic's would echo the file's values
            problem = first_problem(exc, more=", and {} more")
            return self._unreadable(tenant, env, f"{path.name} is not saved evidence ({problem})")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            why = getattr(exc, "strerror", None) or ("not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not JSON")
            return self._unreadable(tenant, env, f"{path.name} cannot be read ({why})")
        if (evidence.company_id, evidence.environment) != (tenant.company_id, env):  # never named: another tenant
            return self._unreadable(tenant, env, f"{path.name} holds another record's evidence")
        return scrub_model(evidence)

    @staticmethod
    def _unreadable(tenant: Tenant, environment: str, message: str) -> RecordEvidence:
        """A saved file that cannot be read is this record's error (every Stripe rule), never a traceback."""
        error = FetchError(kind=ErrorKind.INVALID_RESPONSE, message=f"the saved evidence file {message}")
        return RecordEvidence(company_id=tenant.company_id, environment=environment, account_error=error,
                              webhook_endpoints_error=error, failed_events_error=error)
