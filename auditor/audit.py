"""The fleet audit: for every selected record, collect evidence, then evaluate the rules.

Records are audited on a thread pool (the work is network-bound). A record's
trouble never leaves its own result: the evidence source turns Stripe failures
into evidence, and anything unexpected becomes that record's ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from auditor import __version__
from auditor.collect import EvidenceSource
from auditor.config import Environment, Record, Tenant
from auditor.evaluate import evaluate_record, rule_catalogue
from auditor.evidence import ErrorKind, FetchError, RecordEvidence
from auditor.logcontext import record_context
from auditor.parallel import default_processes, in_processes, in_threads
from auditor.results import RecordFacts, RecordResult, RunResult
from auditor.rules.base import FleetIndex, RecordContext, Settings
from auditor.spool import RecordSpool, dumped

log = logging.getLogger(__name__)

ProgressCallback = Callable[[RecordResult], None]


@dataclass(frozen=True)
class AuditPlan:
    """What to audit and how."""

    tenants: list[Tenant]
    environments: tuple[Environment, ...] = (Environment.STAGE, Environment.LIVE)
    workers: int = 16
    settings: Settings = field(default_factory=Settings)
    config_path: str | None = None
    mode: str = "online"
    processes: int | None = None  # None: decided by the fleet's size (auditor.parallel.default_processes)
    spool_above: int = 400  # more records than this: results go to a file as they come (auditor.spool)

    def records(self) -> list[tuple[Tenant, Record]]:
        """Every (tenant, record) to audit, in file order, stage before live."""
        return [(t, r) for t in self.tenants for env in self.environments if (r := t.record(env)) is not None]


def run_audit(plan: AuditPlan, source: EvidenceSource, progress: ProgressCallback | None = None,
              fleet: FleetIndex | None = None) -> RunResult:
    """Audit every record of the plan; results keep the plan's order.

    ``fleet`` defaults to the plan's tenants; pass the whole fleet when only some
    tenants are audited, so that TEN003 still sees every other tenant.
    """
    fleet = fleet or FleetIndex.build(plan.tenants)
    catalogue = rule_catalogue()  # the rule modules loaded here, before any worker is forked, shared by all
    jobs = plan.records()
    spool = RecordSpool(len(jobs), [t.company_id for t, _ in jobs]) if len(jobs) > plan.spool_above else None
    results: list[RecordResult | None] = [None] * (0 if spool else len(jobs))

    def audit_one(index: int) -> RecordResult:
        tenant, record = jobs[index]
        return audit_record(tenant, record, source, fleet, plan.settings)

    def lost_one(index: int, reason: str) -> RecordResult:
        tenant, record = jobs[index]
        return evaluate_record(_context(tenant, record, _error_evidence(tenant, record, reason), fleet, plan.settings))

    processes = plan.processes or default_processes(len(jobs), plan.workers)
    if processes > 1:  # the children dump each result (and read off its facts) on their cores, not here
        finished: Iterator[tuple[int, RecordResult | Dumped]] = in_processes(
            len(jobs), audit_one, plan.workers, processes, encode=_dumped, decode=_as_sent, lost=lost_one)
    else:
        finished = in_threads(list(range(len(jobs))), audit_one, plan.workers)
    for index, result in finished:
        if spool is not None:
            spool.put(index, *_dumped(result))  # spooled as the child sent it
        else:
            results[index] = _as_record(result)
        if progress:
            progress(_as_record(result))
    run = RunResult(tool_version=__version__, config=plan.config_path, mode=plan.mode, rules=catalogue,
                    records=[r for r in results if r is not None])
    if spool is not None:
        run.records = spool.complete()  # type: ignore[assignment]  # a Sequence of RecordResult, read on access
    run.summarise()
    return run


Dumped = tuple[str, RecordFacts]  # a result as a worker process sends it (auditor.spool.dumped)


def _dumped(result: RecordResult | Dumped) -> Dumped:
    """A result as a worker process sends it and the spool keeps it (one sent already goes as it is)."""
    return result if isinstance(result, tuple) else dumped(result)


def _as_sent(sent: Dumped) -> Dumped:
    """What a worker process sent, kept as it is: decoded only where a record is needed (``_as_record``)."""
    return sent


def _as_record(result: RecordResult | Dumped) -> RecordResult:
    """A result, decoded if a worker process sent it as text (spooled results are not decoded otherwise)."""
    return RecordResult.model_validate_json(result[0]) if isinstance(result, tuple) else result


def audit_record(tenant: Tenant, record: Record, source: EvidenceSource, fleet: FleetIndex,
                 settings: Settings) -> RecordResult:
    """Collect and evaluate one record; never raises for the record's own trouble."""
    with record_context(tenant.company_id, record.environment.value):  # every log line names the record
        return evaluate_record(_context(tenant, record, _collect(tenant, record, source), fleet, settings))


def _context(tenant: Tenant, record: Record, evidence: RecordEvidence, fleet: FleetIndex,
             settings: Settings) -> RecordContext:
    return RecordContext(tenant=tenant, environment=record.environment, record=record, evidence=evidence,
                         fleet=fleet, settings=settings)


def _collect(tenant: Tenant, record: Record, source: EvidenceSource) -> RecordEvidence:
    try:
        return source.collect(tenant, record)
    except Exception as exc:  # the source should not raise; if it does, it is this record's error
        log.exception("collecting evidence for %s %s failed", tenant.company_id, record.environment.value)
        return _error_evidence(tenant, record, f"{type(exc).__name__} while asking Stripe")


def _error_evidence(tenant: Tenant, record: Record, message: str) -> RecordEvidence:
    """Evidence in which every Stripe answer failed for ``message``: the Stripe rules become ``error``."""
    error = FetchError(kind=ErrorKind.OTHER, message=message)
    return RecordEvidence(company_id=tenant.company_id, environment=record.environment.value,
                          account_error=error, webhook_endpoints_error=error, failed_events_error=error)


def select_tenants(tenants: Iterable[Tenant], company_ids: Iterable[str]) -> tuple[list[Tenant], list[str]]:
    """The tenants named (in the order named) and the IDs that match no tenant."""
    by_id = {t.company_id: t for t in tenants}
    chosen, unknown = [], []
    for cid in company_ids:
        (chosen.append(by_id[cid]) if cid in by_id else unknown.append(cid))
    return chosen, unknown
