"""What a rule reads: the record, the fleet around it, and the Stripe answers it needs, typed.

A rule's argument type says what it reads. :class:`RecordContext` is the record
as entered (its Stripe evidence may be absent); the Stripe contexts below it
carry the answers a Stripe rule needs as fields that are never None, so a rule
body cannot dereference an answer that Stripe did not give. The engine binds a
rule's context only after it has decided ``skipped`` (Stripe not asked) and
``error`` (the read failed); :meth:`RecordContext.bind` raises
:class:`MissingEvidence` for an answer that is absent without a recorded error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

from auditor.config import Environment, Record, Tenant
from auditor.evidence import Account, Event, Part, RecordEvidence, WebhookEndpoint
from auditor.rules.guide import (
    CALLBACK_HOSTS,
    DASHBOARD_MODE,
    PUBLISHABLE_PREFIX,
    SECRET_PREFIXES,
    callback_url,
    secret_key_step,
)

T = TypeVar("T")
Users = tuple[tuple[str, Environment], ...]


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

    by_account: dict[str, Users] = field(default_factory=dict)
    by_secret: dict[str, Users] = field(default_factory=dict)
    company_ids: frozenset[str] = frozenset()
    by_signing_secret: dict[str, Users] = field(default_factory=dict)

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


class MissingEvidence(Exception):
    """A rule's context needs evidence that is absent without a recorded reason (e.g. a hand-edited file)."""


def _needed(value: T | None, part: Part) -> T:
    if value is None:
        raise MissingEvidence(f"the evidence holds no answer for {part.value} and no error saying why")
    return value


@dataclass(frozen=True, kw_only=True)
class RecordContext:
    """Everything a record, tenant or fleet rule may read about one record."""

    NEEDS: ClassVar[tuple[Part, ...]] = ()  # the Stripe answers this kind of context carries

    tenant: Tenant
    environment: Environment
    record: Record
    evidence: RecordEvidence | None = None
    fleet: FleetIndex = field(default_factory=FleetIndex)
    settings: Settings = field(default_factory=Settings)

    @classmethod
    def bind(cls, ctx: RecordContext) -> Self:
        """This kind of context for ``ctx``'s record (``ctx`` itself when it is one already)."""
        if isinstance(ctx, cls):
            return ctx
        return cls(tenant=ctx.tenant, environment=ctx.environment, record=ctx.record, fleet=ctx.fleet,
                   settings=ctx.settings, **cls._answers(ctx.evidence))

    @classmethod
    def _answers(cls, evidence: RecordEvidence | None) -> dict[str, Any]:
        return {"evidence": evidence}

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
        """The values every remediation template may use (ENGINE_PLACEHOLDERS names them)."""
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


ENGINE_PLACEHOLDERS = frozenset({
    "company_id", "tenant", "environment", "mode", "stripe_mode", "expected_url", "callback_host", "pk_prefix",
    "sk_prefix", "get_secret_key", "account_id", "window_days", "grace_minutes",
})


@dataclass(frozen=True, kw_only=True)
class StripeContext(RecordContext):
    """Stripe was asked for this record: its evidence is present (answers may still have failed)."""

    evidence: RecordEvidence

    @classmethod
    def _answers(cls, evidence: RecordEvidence | None) -> dict[str, Any]:
        if evidence is None or evidence.not_asked:
            raise MissingEvidence("Stripe was not asked")
        return {"evidence": evidence}


@dataclass(frozen=True, kw_only=True)
class AccountContext(StripeContext):
    """Stripe answered ``GET /v1/account``."""

    NEEDS = (Part.ACCOUNT,)
    account: Account

    @classmethod
    def _answers(cls, evidence: RecordEvidence | None) -> dict[str, Any]:
        found = super()._answers(evidence)
        return {**found, "account": _needed(found["evidence"].account, Part.ACCOUNT)}


@dataclass(frozen=True, kw_only=True)
class EndpointsContext(StripeContext):
    """Stripe listed the account's webhook endpoints."""

    NEEDS = (Part.WEBHOOK_ENDPOINTS,)
    endpoints: list[WebhookEndpoint]

    @classmethod
    def _answers(cls, evidence: RecordEvidence | None) -> dict[str, Any]:
        found = super()._answers(evidence)
        return {**found, "endpoints": _needed(found["evidence"].webhook_endpoints, Part.WEBHOOK_ENDPOINTS)}


@dataclass(frozen=True, kw_only=True)
class DeliveriesContext(StripeContext):
    """Stripe listed the events whose delivery is pending or failed (the endpoints may be missing)."""

    NEEDS = (Part.FAILED_EVENTS,)
    failed_events: list[Event]

    @classmethod
    def _answers(cls, evidence: RecordEvidence | None) -> dict[str, Any]:
        found = super()._answers(evidence)
        return {**found, "failed_events": _needed(found["evidence"].failed_events, Part.FAILED_EVENTS)}


CONTEXTS: tuple[type[RecordContext], ...] = (RecordContext, StripeContext, AccountContext, EndpointsContext,
                                             DeliveriesContext)
