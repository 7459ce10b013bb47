"""The results of a run: the canonical, serialisable record every format renders from.

``results.json`` is :class:`RunResult` dumped as JSON (schema
``plenigo-stripe-audit/1``). Record status and exit codes are decided here, in
one place.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from auditor.evidence import RecordEvidence

SCHEMA = "plenigo-stripe-audit/1"


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 … info 0."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}


class CheckStatus(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"
    WAIVED = "waived"


class RecordStatus(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


class ExitCode:
    OK = 0
    FINDINGS = 1
    USAGE = 2
    NOT_AUDITED = 3
    EMAIL_FAILED = 4  # reports written, every record passed, but an email was not delivered
    EMAIL_FAILED_FINDINGS = 5  # reports written, findings or errors, and an email was not delivered
    INTERNAL = 70
    INTERRUPTED = 130
    OUTPUT_FAILED = 74  # sysexits EX_IOERR: an output could not be written (disk full); nothing half-written

    @staticmethod
    def with_mail_failure(code: int) -> int:
        """4 or 5: a failed email must not hide whether the audit itself found something."""
        return ExitCode.EMAIL_FAILED if code == ExitCode.OK else ExitCode.EMAIL_FAILED_FINDINGS


class Waiver(BaseModel):
    """The accepted exception applied to a check (see ``auditor.waivers``)."""

    reason: str
    approved_by: str
    expires: str
    company_id: str = "*"
    environment: str | None = None


class RuleInfo(BaseModel):
    """A rule's metadata as the reports show it.

    It travels in results.json so that a renderer shows what the run recorded and
    never asks the installed rule catalogue, which may be another version.
    """

    slug: str
    severity: Severity
    title: str = ""
    steps: str = ""  # the generic steps to fix, ``<placeholders>`` where each record's own values go


class EndpointRole(str, Enum):
    """How the engine judged one webhook endpoint of a record (SPEC "Which endpoint is plenigo's")."""

    CHOSEN = "chosen"  # plenigo's endpoint for this record: the one the webhook rules judged
    CANDIDATE = "candidate"  # points at plenigo, but another candidate was chosen
    OTHER_TENANT = "other-tenant"  # another tenant's endpoint on the same Stripe account
    ELSEWHERE = "elsewhere"  # the merchant's own endpoint: points elsewhere


class CheckResult(BaseModel):
    rule: str
    slug: str
    severity: Severity
    status: CheckStatus
    message: str
    title: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    remediation: str | None = None
    waiver: Waiver | None = None

    @property
    def counts_as_failure(self) -> bool:
        """Failed and of a severity that fails a record (``info`` never does)."""
        return self.status is CheckStatus.FAIL and self.severity.at_least(Severity.LOW)


class RecordResult(BaseModel):
    company_id: str
    tenant: str
    environment: str
    status: RecordStatus
    checks: list[CheckResult]
    error: str | None = None
    evidence: RecordEvidence | None = None
    # endpoint ID → how it was judged; None: not judged (no endpoint list, or a results.json older than this field)
    endpoint_roles: dict[str, EndpointRole] | None = None

    @property
    def chosen_endpoint(self) -> str | None:
        """The ID of the endpoint the webhook rules judged, if the engine recorded one."""
        roles = self.endpoint_roles or {}
        return next((e for e, role in roles.items() if role is EndpointRole.CHOSEN), None)

    def points_at_plenigo(self, endpoint_id: str) -> bool:
        """The engine judged the endpoint plenigo's (this tenant's or another's); unknown counts as no."""
        return (self.endpoint_roles or {}).get(endpoint_id, EndpointRole.ELSEWHERE) is not EndpointRole.ELSEWHERE

    @staticmethod
    def status_of(checks: list[CheckResult]) -> RecordStatus:
        """error if any check errored, else fail if any check of low or above failed."""
        if any(c.status is CheckStatus.ERROR for c in checks):
            return RecordStatus.ERROR
        if any(c.counts_as_failure for c in checks):
            return RecordStatus.FAIL
        return RecordStatus.PASS

    def failing(self, minimum: Severity = Severity.INFO) -> list[CheckResult]:
        return [c for c in self.checks if c.status is CheckStatus.FAIL and c.severity.at_least(minimum)]

    def check(self, rule_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.rule == rule_id), None)


class RecordFacts(NamedTuple):
    """What a run's summary, exit code and folded table lines need of a record, without decoding it.

    A spooled fleet keeps these beside each record's JSON as it arrives, so the
    summary, the exit code and the table's choice of records read 20,000 small
    tuples instead of decoding the fleet from disk once more for each.
    """

    company_id: str
    status: RecordStatus
    worst_failure: Severity | None  # the most severe failed check, info included; None: nothing failed
    waived: bool  # a check is waived (the table always lists such a record)

    @classmethod
    def of(cls, record: RecordResult) -> RecordFacts:
        failed = [c.severity for c in record.checks if c.status is CheckStatus.FAIL]
        return cls(record.company_id, record.status, max(failed, key=lambda s: s.rank) if failed else None,
                   any(c.status is CheckStatus.WAIVED for c in record.checks))

    def fails_at(self, minimum: Severity) -> bool:
        """A check failed at or above ``minimum`` (``RecordResult.failing(minimum)`` is not empty)."""
        return self.worst_failure is not None and self.worst_failure.at_least(minimum)


def record_texts(records: Sequence[RecordResult]) -> Iterator[str]:
    """Each record's ``model_dump_json(indent=2)``, in order: as a spool stored it (``texts()``), else dumped."""
    stored = getattr(records, "texts", None)
    if callable(stored):
        yield from stored()
        return
    for record in records:
        yield record.model_dump_json(indent=2)


def facts_of(records: Sequence[RecordResult]) -> Sequence[RecordFacts]:
    """Each record's facts, in order: as a spool kept them (``facts()``), else read off the records."""
    kept = getattr(records, "facts", None)
    return kept() if callable(kept) else [RecordFacts.of(r) for r in records]


class RunResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(default=SCHEMA, alias="schema")
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    tool_version: str = ""
    config: str | None = None
    mode: str = "online"
    duration_seconds: float | None = None  # the audit's wall time, for the metrics (None: not measured)
    summary: dict[str, int] = Field(default_factory=dict)
    records: list[RecordResult] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    waiver_notices: list[dict[str, str]] = Field(default_factory=list)
    rules: dict[str, RuleInfo] = Field(default_factory=dict)  # rule ID → metadata of every rule the run applied

    def rule_steps(self, rule_id: str) -> str:
        """The rule's generic steps to fix as the run recorded them ("" in a results.json without them)."""
        info = self.rules.get(rule_id)
        return info.steps if info is not None else ""

    def summarise(self) -> None:
        counts = Counter(f.status.value for f in facts_of(self.records))
        self.summary = {"records": len(self.records), **{s.value: counts.get(s.value, 0) for s in RecordStatus}}

    def exit_code(self, fail_on: Severity = Severity.LOW) -> int:
        """1 if a check failed at or above ``fail_on``, else 3 if a record errored, else 0."""
        facts = facts_of(self.records)
        if any(f.fails_at(fail_on) for f in facts):
            return ExitCode.FINDINGS
        if any(f.status is RecordStatus.ERROR for f in facts):
            return ExitCode.NOT_AUDITED
        return ExitCode.OK

    def tenant_count(self) -> int:
        """How many tenants the run's records belong to."""
        return len({f.company_id for f in facts_of(self.records)})

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2, exclude_none=False)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        """A saved run; anything but this tool's schema is refused with a ValueError."""
        try:
            data = json.loads(text)
        except RecursionError:  # the decoder recurses once per level: [[[… of a hostile or broken file
            raise ValueError("its JSON is nested too deeply") from None
        found = data.get("schema") if isinstance(data, dict) else None
        if found != SCHEMA:
            raise ValueError(f"schema is {found!r}, expected {SCHEMA!r}")
        try:  # a lone surrogate escape (\ud800) parses as JSON but is no text: every renderer would crash on it
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"it holds a lone surrogate escape (\\u{ord(exc.object[exc.start]):04x}), "
                             f"which is not a character") from None
        return cls.model_validate(data)
