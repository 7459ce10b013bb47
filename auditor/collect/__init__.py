"""Evidence sources: where a record's Stripe evidence comes from.

- :mod:`auditor.collect.stripe_api` asks Stripe (read-only, GET only);
- :mod:`auditor.collect.offline` does not ask (``--offline``): Stripe rules are skipped;
- :mod:`auditor.collect.saved` re-reads evidence written by ``--save-evidence``.

Every source satisfies :class:`EvidenceSource` and never raises for one
record's trouble: a failure is written into the evidence it returns.
"""

from __future__ import annotations

from typing import Protocol

from auditor.config import Record, Tenant
from auditor.evidence import RecordEvidence


class EvidenceSource(Protocol):
    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        """What Stripe says about this record (or why it was not asked)."""
        ...
