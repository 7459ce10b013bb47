"""One record's evidence read in the background while the caller gets ready to judge it.

``audit checklist`` is waited for by a person: of its start-up, only the
tenant file and the collector are needed before Stripe can be asked, and the
rule catalogue, the engine and the renderers (tens of milliseconds of imports)
can be loaded during Stripe's round trip instead of before it.
:func:`prefetch` starts the reads on a daemon thread (Ctrl-C never waits for a
read in flight, as with the fleet's threads) and returns once they are all on
their way: until then the caller would only take the GIL from them, and its
imports would delay the requests by as long as they take.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import Future

from auditor.collect import EvidenceSource
from auditor.collect.sending import SENDING
from auditor.config import Record, Tenant
from auditor.evidence import RecordEvidence
from auditor.logcontext import record_context

HEAD_START_CAP = 2.0  # seconds the caller waits at most for the reads to be sent (a safety net, never reached)


class Prefetched:
    """An evidence source that already holds (or is reading) the evidence of one record."""

    def __init__(self, source: EvidenceSource, tenant: Tenant, record: Record):
        self._tenant, self._record = tenant, record
        self._answer: Future[RecordEvidence] = Future()
        self._expected = max(1, int(getattr(source, "reads_at_once", 1)))  # requests that start at once
        self._sent = 0
        self._lock = threading.Lock()
        self.in_flight = threading.Event()  # every first request sent, or the read already over
        run = contextvars.copy_context().run  # the caller's log settings and context, on the reading thread
        threading.Thread(target=run, args=(self._read, source), name="prefetch", daemon=True).start()

    def _read(self, source: EvidenceSource) -> None:
        SENDING.set(self._note_send)  # heard from this thread and from the helpers its reads run on
        try:
            with record_context(self._tenant.company_id, self._record.environment.value):
                self._answer.set_result(source.collect(self._tenant, self._record))
        except BaseException as exc:  # handed to the caller, who treats it as a failed collection
            self._answer.set_exception(exc)
        finally:
            self.in_flight.set()

    def _note_send(self) -> None:
        with self._lock:
            self._sent += 1
            if self._sent >= self._expected:
                self.in_flight.set()

    def holds(self, tenant: Tenant, record: Record) -> bool:
        """Whether this is the evidence of ``record``: the same company ID and record (environment, account,
        keys), so that reading it anew would ask Stripe exactly the same."""
        return tenant.company_id == self._tenant.company_id and record == self._record

    def collect(self, tenant: Tenant, record: Record) -> RecordEvidence:
        """The prefetched record's evidence (waited for); only that record can be asked for."""
        if not self.holds(tenant, record):
            raise ValueError("a prefetched source holds the evidence of one record only")
        return self._answer.result()


def prefetch(source: EvidenceSource, tenant: Tenant, record: Record) -> Prefetched:
    """Start reading ``record``'s evidence from ``source``; return once its requests are sent (or it is read)."""
    fetched = Prefetched(source, tenant, record)
    fetched.in_flight.wait(HEAD_START_CAP)
    return fetched
