"""One record's Stripe reads started before the rest of the command is loaded.

``audit checklist`` is waited for by a person, and most of its time is
start-up (importing the rule engine, the checklist models and their renderer)
and one round trip to Stripe. Started early, the round trip and those imports
overlap: the command waits for whichever is longer instead of their sum. The
evidence is the one the source collects; only when it is collected changes.
"""

from __future__ import annotations

import threading

from auditor.collect import EvidenceSource
from auditor.config import Record, Tenant
from auditor.evidence import RecordEvidence
from auditor.logcontext import record_context

_SIGNAL_POLL = 0.2  # seconds: the waiting main thread wakes this often, so Ctrl-C and SIGTERM are handled at once


class EarlyRead:
    """An :class:`~auditor.collect.EvidenceSource` for one record whose reads began when it was made."""

    def __init__(self, source: EvidenceSource, tenant: Tenant, record: Record) -> None:
        self._key = (tenant.company_id, record.environment)
        self._done = threading.Event()
        self._evidence: RecordEvidence | None = None
        self._error: BaseException | None = None
        # a daemon thread: an interrupted command exits without waiting for Stripe's answer
        threading.Thread(target=self._read, args=(source, tenant, record), name="early-read", daemon=True).start()

    def _read(self, source: EvidenceSource, tenant: Tenant, record: Record) -> None:
        try:
            with record_context(tenant.company_id, record.environment.value):  # its log lines name the record
                self._evidence = source.collect(tenant, record)
        except BaseException as exc:  # handed to the caller of collect(), which decides what it means
            self._error = exc
        finally:
            self._done.set()

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        """The evidence being read; raises what the source raised (audit_record turns it into errors)."""
        if (tenant.company_id, record.environment) != self._key:
            raise ValueError(f"this early read is for {self._key}, not {tenant.company_id} {record.environment}")
        while not self._done.wait(_SIGNAL_POLL):
            pass
        if self._error is not None:
            raise self._error
        assert self._evidence is not None
        return self._evidence
