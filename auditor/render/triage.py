"""The first screen: what to fix first, computed once for the HTML, the PDF and the email.

At fleet size a reader's first question is "what do I fix first?", not "what
is the state of record 614?". This module answers it from a RunResult alone:
counts by severity, the rules whose fix helps most (affected records weighted
by severity), every rule with the records it affects (the "by rule" view), and
the records that could not be audited grouped by cause, each cause with its fix.
Pure: no I/O, no templates.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

from auditor.results import CheckResult, CheckStatus, RecordResult, RunResult, Severity

SEVERITIES = tuple(s.value for s in Severity)  # critical … info
# how much one affected record of a severity weighs when ranking actions; info never fails a record
SEVERITY_WEIGHT = {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0}
TOP_ACTIONS = 5
_SHOWN = (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED)

# what to do about each kind of error (evidence.ErrorKind values); a check's own remediation wins
ERROR_FIXES = {
    "authentication": "Stripe rejected the secret key: it was rolled, expired or mistyped. Enter the record's "
                      "current secret key (for live: the one stored when it was created, or roll it and store "
                      "the new one).",
    "permission": "The key is a restricted key without the permission Stripe names. Give it read access to "
                  "that resource in the Stripe Dashboard (Developers → API keys → edit the key), or use the "
                  "record's standard secret key.",
    "not_found": "Stripe does not know this resource for this key: check that the key belongs to the record's "
                 "account and mode.",
    "rate_limited": "Stripe kept rate-limiting the audit: run it again later, or with fewer --workers.",
    "server": "Stripe answered with server errors: run the audit again later (status.stripe.com).",
    "timeout": "Stripe did not answer in time: check the network or proxy, or raise --timeout.",
    "connection": "The auditor could not reach Stripe: check the network, the proxy (HTTPS_PROXY) and "
                  "--stripe-api-base.",
    "invalid_response": "Stripe's answer could not be read: check that --stripe-api-base points at Stripe or a "
                        "Stripe-compatible server, then run again.",
    "refused": "The read-only guard stopped a request that was not GET: this is a bug, please report it.",
    "other": "Asking Stripe failed: run the audit again with -v to see why.",
}


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 error``, ``2 errors``, ``1,000 records``: one place for counts in prose."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


@dataclass(frozen=True)
class RecordRef:
    """A record a rule or cause affects, with the anchor of its findings in report.html."""

    company_id: str
    tenant: str
    environment: str

    @property
    def anchor(self) -> str:
        return record_anchor(self.company_id, self.environment)


def record_anchor(company_id: str, environment: str) -> str:
    return f"{company_id}-{environment}"


def rule_anchor(rule: str) -> str:
    return f"rule-{rule}"


@dataclass
class SeverityCount:
    severity: str
    checks: int  # failed checks of this severity
    records: int  # records with at least one


@dataclass
class RuleGroup:
    """One rule and every record on which it failed (or was waived): the "by rule" view."""

    rule: str
    slug: str
    severity: str
    title: str
    steps: str = ""  # the generic steps to fix as the run recorded them, ``<placeholders>`` for a record's values
    failing: list[RecordRef] = field(default_factory=list)
    waived: list[RecordRef] = field(default_factory=list)

    @property
    def score(self) -> int:
        return len(self.failing) * SEVERITY_WEIGHT.get(self.severity, 0)

    @property
    def tenants(self) -> int:
        return len({r.company_id for r in self.failing})

    @property
    def anchor(self) -> str:
        return rule_anchor(self.rule)


@dataclass
class ErrorCause:
    """Records that could not be (fully) audited for one reason, and what to do about it."""

    kind: str
    http_status: int | None
    message: str  # the first record's message, as Stripe and the auditor said it
    fix: str
    records: list[RecordRef] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status else ""
        return f"{self.kind.replace('_', ' ')}{status}"


@dataclass
class Triage:
    by_severity: list[SeverityCount]
    rules: list[RuleGroup]  # every rule with a failure or waiver, most urgent first
    causes: list[ErrorCause]  # most records first

    @property
    def actions(self) -> list[RuleGroup]:
        """The few fixes that help most: failing rules ranked by records × severity weight (info excluded)."""
        return [g for g in self.rules if g.score > 0][:TOP_ACTIONS]

    @property
    def failed_checks(self) -> int:
        return sum(c.checks for c in self.by_severity)


def build_triage(run: RunResult) -> Triage:
    return Triage(by_severity=severity_counts(run), rules=rule_groups(run), causes=error_causes(run))


def severity_counts(run: RunResult) -> list[SeverityCount]:
    """Failed checks and affected records per severity, critical first (zeros kept: a table reads evenly)."""
    checks: Counter[str] = Counter()
    records: Counter[str] = Counter()
    for record in run.records:
        seen = set()
        for check in record.checks:
            if check.status is CheckStatus.FAIL:
                checks[check.severity.value] += 1
                seen.add(check.severity.value)
        records.update(seen)
    return [SeverityCount(s, checks[s], records[s]) for s in SEVERITIES]


def _ref(record: RecordResult) -> RecordRef:
    return RecordRef(record.company_id, record.tenant, record.environment)


def rule_groups(run: RunResult) -> list[RuleGroup]:
    """Every rule that failed or was waived somewhere, by score, then severity, then rule ID."""
    groups: dict[str, RuleGroup] = {}
    for record in run.records:
        for check in record.checks:
            if check.status not in (CheckStatus.FAIL, CheckStatus.WAIVED):
                continue
            group = groups.get(check.rule)
            if group is None:
                group = groups[check.rule] = RuleGroup(check.rule, check.slug, check.severity.value, check.title,
                                                       run.rule_steps(check.rule))
            (group.failing if check.status is CheckStatus.FAIL else group.waived).append(_ref(record))
    return sorted(groups.values(), key=lambda g: (-g.score, -Severity(g.severity).rank, -len(g.failing), g.rule))


_VARIABLE = re.compile(r"\b(?:req|acct|we|evt|sk|rk|pk)_[\w…]+|\b[0-9a-f]{8,}\b|\b\d{5,}\b")


@functools.lru_cache(maxsize=1024)  # a fleet's errors repeat a few messages hundreds of times
def normalise(message: str) -> str:
    """The message without what differs between records (request, account and key IDs, long numbers)."""
    return " ".join(_VARIABLE.sub("…", message).split()).casefold()


def _error_details(check: CheckResult) -> tuple[str, int | None]:
    kind = str(check.details.get("error_kind") or "other")
    status = check.details.get("http_status")
    return kind, status if isinstance(status, int) else None


def error_causes(run: RunResult) -> list[ErrorCause]:
    """Errored checks grouped by (error kind, HTTP status, normalised message); most records first."""
    causes: dict[tuple[str, int | None, str], ErrorCause] = {}
    for record in run.records:
        for check in record.checks:
            if check.status is not CheckStatus.ERROR:
                continue
            kind, status = _error_details(check)
            key = (kind, status, normalise(check.message))
            cause = causes.get(key)
            if cause is None:
                fix = check.remediation or ERROR_FIXES.get(kind, ERROR_FIXES["other"])
                cause = causes[key] = ErrorCause(kind, status, check.message, fix)
            if not cause.records or cause.records[-1] != _ref(record):
                cause.records.append(_ref(record))
            cause.rules.add(check.rule)
    return sorted(causes.values(), key=lambda c: (-len(c.records), c.kind, c.message))
