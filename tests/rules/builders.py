"""Small builders for rule tests: a record, its evidence and a context in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from auditor.config import Environment, Record, Secret, Tenant
from auditor.evaluate import evaluate_record, run_rule
from auditor.evidence import Account, ErrorKind, Event, FetchError, RecordEvidence, WebhookEndpoint
from auditor.results import CheckResult, RecordResult
from auditor.rules import get_rule
from auditor.rules.base import FleetIndex, RecordContext, Settings
from auditor.rules.guide import REQUIRED_EVENTS, callback_url

CID = "ACME0000000000000001"
ACCOUNT = "acct_1AbCdEfGhIjKlMnO"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
STAGE, LIVE = Environment.STAGE, Environment.LIVE


def pk(env: Environment, account: str = ACCOUNT) -> str:
    return f"pk_{env.stripe_mode}_5{account[5:]}" + "Pk" * 15


def sk(env: Environment, account: str = ACCOUNT, kind: str = "sk") -> str:
    return f"{kind}_{env.stripe_mode}_5{account[5:]}" + "Sk" * 15


def secret(value: str, origin: str = "env") -> Secret:
    return Secret(value=SecretStr(value), origin=origin, source="$TEST")  # type: ignore[arg-type]


def record(env: Environment = LIVE, **overrides) -> Record:
    values = dict(account_id=ACCOUNT, publishable_key=pk(env), secret_key=secret(sk(env)),
                  signing_secret=secret("whsec_" + "w" * 32))
    values.update(overrides)
    return Record(environment=env, **values)


def tenant(*records: Record, company_id: str = CID) -> Tenant:
    return Tenant(company_id=company_id, name="Acme GmbH", contact=None,
                  records={r.environment: r for r in records})


def endpoint(env: Environment = LIVE, url: str | None = None, events=REQUIRED_EVENTS, status: str = "enabled",
             livemode: bool | None = None, endpoint_id: str = "we_1", created: int = 1700000000) -> WebhookEndpoint:
    return WebhookEndpoint(id=endpoint_id, url=url or callback_url(CID, env), status=status,
                           enabled_events=list(events), livemode=(env is LIVE) if livemode is None else livemode,
                           created=created)


_DEFAULT = Account(id=ACCOUNT, charges_enabled=True, payouts_enabled=True, details_submitted=True)


def evidence(env: Environment = LIVE, endpoints: list[WebhookEndpoint] | None = None,
             account: Account | None = _DEFAULT, events: list[Event] | None = None, **overrides) -> RecordEvidence:
    values = dict(
        company_id=CID, environment=env.value, collected_at=NOW, key_hint="sk_live_…SkSk",
        account=account,
        webhook_endpoints=[endpoint(env)] if endpoints is None else endpoints,
        failed_events=events or [], failed_events_since=NOW - timedelta(days=7),
    )
    values.update(overrides)
    return RecordEvidence(**values)


def error(kind: ErrorKind, status: int | None = None, path: str = "/v1/account") -> FetchError:
    return FetchError(kind=kind, message=f"stub {kind.value}", http_status=status, path=path)


def context(rec: Record | None = None, ev: RecordEvidence | None = None, ten: Tenant | None = None,
            fleet: list[Tenant] | None = None) -> RecordContext:
    rec = rec or record()
    ten = ten or tenant(rec)
    ev = ev if ev is not None else evidence(rec.environment)
    return RecordContext(tenant=ten, environment=rec.environment, record=rec, evidence=ev,
                         fleet=FleetIndex.build(fleet or [ten]), settings=Settings(now=NOW))


def check(rule_id: str, ctx: RecordContext) -> CheckResult:
    rule = get_rule(rule_id)
    assert rule is not None
    return run_rule(rule, ctx)


def evaluate(ctx: RecordContext) -> RecordResult:
    return evaluate_record(ctx)
