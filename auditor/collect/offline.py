"""``--offline``: Stripe is never asked; only the record, tenant and fleet rules decide."""

from __future__ import annotations

from auditor.config import Record, Tenant
from auditor.evidence import RecordEvidence


class OfflineSource:
    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        return RecordEvidence(
            company_id=tenant.company_id,
            environment=record.environment.value,
            not_asked="offline mode (--offline)",
        )
