"""What a rule is: a small pure function plus typed metadata.

A rule reads a :class:`RecordContext` (the record as entered, the evidence
Stripe gave, the fleet around it) and returns an :class:`Outcome`. It does no
I/O. The engine decides ``skipped``/``error`` for Stripe rules whose evidence
is missing or failed, so a rule body only sees the answers it asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from auditor.config import Environment, Record, Tenant
from auditor.evidence import RecordEvidence
from auditor.results import CheckStatus, Severity
from auditor.rules.guide import (
    CALLBACK_HOSTS,
    DASHBOARD_MODE,
    PUBLISHABLE_PREFIX,
    SECRET_PREFIXES,
    callback_url,
    secret_key_step,
)


class Source(str, Enum):
    RECORD = "record"  # the tenant file alone
    STRIPE = "stripe"  # what Stripe answered for the record's secret key
    TENANT = "tenant"  # both records of one tenant
    FLEET = "fleet"  # all tenants together


BOTH = frozenset(Environment)
LIVE_ONLY = frozenset({Environment.LIVE})


@dataclass(frozen=True)
class Outcome:
    """What a rule found. ``fill`` adds values to the remediation template."""

    status: CheckStatus
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    fill: dict[str, str] = field(default_factory=dict)


def passed(message: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.PASS, message, details)


def failed(message: str, fill: dict[str, str] | None = None, **details: Any) -> Outcome:
    return Outcome(CheckStatus.FAIL, message, details, fill or {})


def skipped(message: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.SKIPPED, message, details)


def errored(message: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.ERROR, message, details)


@dataclass(frozen=True)
class Settings:
    """Knobs of an audit that rules read (never the network)."""

    delivery_window_days: int = 7
    delivery_grace_minutes: int = 15  # WH010: younger failed events may still be in flight
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def fingerprint(value: str) -> str:
    """A stable, non-reversible name for a secret, to compare secrets across tenants."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class FleetIndex:
    """Who uses which Stripe account, secret key and signing secret, across the fleet.

    TEN003 reads it, and the endpoint choice: an endpoint at exactly the URL of
    another tenant on the same account is that tenant's. Secrets are kept only
    as fingerprints.
    """

    by_account: dict[str, tuple[tuple[str, Environment], ...]] = field(default_factory=dict)
    by_secret: dict[str, tuple[tuple[str, Environment], ...]] = field(default_factory=dict)
    company_ids: frozenset[str] = frozenset()
    by_signing_secret: dict[str, tuple[tuple[str, Environment], ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, tenants: list[Tenant]) -> FleetIndex:
        accounts: dict[str, list[tuple[str, Environment]]] = {}
        secrets: dict[str, list[tuple[str, Environment]]] = {}
        signing: dict[str, list[tuple[str, Environment]]] = {}
        for tenant in tenants:
            for env, record in tenant.records.items():
                user = (tenant.company_id, env)
                if record.account_id:
                    accounts.setdefault(record.account_id.strip(), []).append(user)
                if record.secret_key:
                    secrets.setdefault(fingerprint(record.secret_key.reveal()), []).append(user)
                if record.signing_secret and record.signing_secret.reveal().strip():
                    signing.setdefault(fingerprint(record.signing_secret.reveal().strip()), []).append(user)
        return cls(
            by_account={k: tuple(v) for k, v in accounts.items()},
            by_secret={k: tuple(v) for k, v in secrets.items()},
            company_ids=frozenset(t.company_id for t in tenants),
            by_signing_secret={k: tuple(v) for k, v in signing.items()},
        )

    def sharing_account(self, account_ids: set[str], company_id: str) -> set[str]:
        """The other tenants naming one of these Stripe accounts."""
        return {cid for a in account_ids for cid, _ in self.by_account.get(a, ()) if cid != company_id}


@dataclass(frozen=True)
class RecordContext:
    """Everything a rule may read about one record."""

    tenant: Tenant
    environment: Environment
    record: Record
    evidence: RecordEvidence | None = None
    fleet: FleetIndex = field(default_factory=FleetIndex)
    settings: Settings = field(default_factory=Settings)

    @property
    def company_id(self) -> str:
        return self.tenant.company_id

    @property
    def expected_url(self) -> str:
        return callback_url(self.company_id, self.environment)

    @property
    def tenants_on_account(self) -> set[str]:
        """Other tenants on this record's Stripe account (as entered, or as Stripe named it)."""
        ids = {(self.record.account_id or "").strip()}
        if self.evidence is not None and self.evidence.account is not None:
            ids.add(self.evidence.account.id)
        return self.fleet.sharing_account(ids - {""}, self.company_id)

    @property
    def taken_urls(self) -> dict[str, str]:
        """URL → company ID of the endpoints that belong to other tenants on this account, in this environment."""
        return {callback_url(cid, self.environment): cid for cid in sorted(self.tenants_on_account)}

    @property
    def other_record(self) -> Record | None:
        other = Environment.LIVE if self.environment is Environment.STAGE else Environment.STAGE
        return self.tenant.record(other)

    def placeholders(self) -> dict[str, str]:
        """The values every remediation template may use."""
        env = self.environment
        return {
            "company_id": self.company_id,
            "tenant": self.tenant.name,
            "environment": env.value,
            "mode": DASHBOARD_MODE[env],
            "stripe_mode": env.stripe_mode,
            "expected_url": self.expected_url,
            "callback_host": CALLBACK_HOSTS[env],
            "pk_prefix": PUBLISHABLE_PREFIX[env],
            "sk_prefix": SECRET_PREFIXES[env][0],
            "get_secret_key": secret_key_step(env),
            "account_id": self.record.account_id or "(the account ID)",
            "window_days": str(self.settings.delivery_window_days),
            "grace_minutes": str(self.settings.delivery_grace_minutes),
        }


Check = Callable[[RecordContext], Outcome]


@dataclass(frozen=True)
class Rule:
    """A rule's metadata and its check function; ``audit explain`` prints the metadata."""

    id: str
    slug: str
    severity: Severity
    source: Source
    environments: frozenset[Environment]
    title: str
    checks: str
    why: str
    remediation: str
    check: Check
    needs: tuple[str, ...] = ()
    handles_errors: bool = False
    mode_bound: bool = False  # Stripe's answer is of the key's mode: meaningless when KEY004 fails

    def applies_to(self, env: Environment) -> bool:
        return env in self.environments

    def remediation_for(self, ctx: RecordContext, outcome: Outcome) -> str:
        values = {**ctx.placeholders(), **outcome.fill}
        return self.remediation.format_map(_Default(values))

    def remediation_template(self) -> str:
        return self.remediation.format_map(_Default())


class _Default(dict):
    """Leaves an unknown placeholder visible as ``<name>`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


REGISTRY: dict[str, Rule] = {}


def rule(
    *,
    id: str,
    slug: str,
    severity: Severity,
    source: Source,
    title: str,
    checks: str,
    why: str,
    remediation: str,
    environments: frozenset[Environment] = BOTH,
    needs: tuple[str, ...] = (),
    handles_errors: bool = False,
    mode_bound: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated function as a rule with this metadata."""

    def register(func: Check) -> Check:
        if id in REGISTRY:
            raise ValueError(f"rule {id} is defined twice")
        REGISTRY[id] = Rule(
            id=id, slug=slug, severity=severity, source=source, environments=environments, title=title,
            checks=checks, why=why, remediation=remediation, check=func, needs=needs,
            handles_errors=handles_errors, mode_bound=mode_bound,
        )
        return func

    return register
