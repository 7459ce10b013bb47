"""The pre-go-live checklist: the setup guide's steps for one record, checked rather than ticked.

Each item follows the guide's order and words and is backed by the rules that
check it; the verdict is READY only when every critical and high item passes.
The model is pure and serialisable, so it renders to text, HTML and PDF alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from auditor import __version__
from auditor.config import Environment, Record, Tenant
from auditor.evidence import WebhookEndpoint
from auditor.redact import mask
from auditor.results import CheckResult, CheckStatus, RecordResult, Severity
from auditor.rules.guide import (
    CALLBACK_HOSTS,
    DASHBOARD_MODE,
    PUBLISHABLE_PREFIX,
    REQUIRED_EVENTS,
    SECRET_PREFIXES,
    callback_url,
)


class Verdict(str, Enum):
    READY = "READY"
    NOT_READY = "NOT READY"
    CANNOT_CHECK = "CANNOT CHECK"

    @property
    def exit_code(self) -> int:
        return {Verdict.READY: 0, Verdict.NOT_READY: 1, Verdict.CANNOT_CHECK: 3}[self]


class ItemSpec(BaseModel):
    number: int
    title: str
    where: str
    rules: list[str]


class Item(BaseModel):
    number: int
    title: str
    where: str
    status: CheckStatus
    rules: list[str]
    evidence: list[str] = Field(default_factory=list)
    events: list[tuple[str, bool]] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    blocking: bool = False


class Checklist(BaseModel):
    company_id: str
    tenant: str
    environment: str
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    tool_version: str = __version__
    items: list[Item] = Field(default_factory=list)
    verdict: Verdict
    reason: str
    blocking: list[str] = Field(default_factory=list)
    instructions: list[str] = Field(default_factory=list)


def item_specs(env: Environment) -> list[ItemSpec]:
    """The guide's steps in its order, then what go-live needs that the guide leaves implicit."""
    mode = DASHBOARD_MODE[env]
    secret_where = (f"Developers → API keys → Reveal test key ({SECRET_PREFIXES[env][0]}…), in {mode}"
                    if env is Environment.STAGE else
                    f"Developers → API keys → the live secret key ({SECRET_PREFIXES[env][0]}…) stored when it was "
                    "created: Stripe shows a live key only once (lost: roll it or create a new one), in " + mode)
    webhooks = "Workbench → Webhooks (older Dashboard: Developers → Webhooks)"
    specs = [
        ItemSpec(number=1, title="Stripe account ID", rules=["ACC001", "ACC002", "ACC003"],
                 where="Gear symbol (right-hand corner) → Profile → bottom of the page → Accounts"),
        ItemSpec(number=2, title="Publishable key", rules=["KEY001", "KEY002", "KEY006"],
                 where=f"Developers → API keys → Publishable key ({PUBLISHABLE_PREFIX[env]}…), in {mode}"),
        ItemSpec(number=3, title="Secret key", rules=["KEY003", "KEY004", "KEY005", "KEY007", "KEY008"],
                 where=secret_where),
        ItemSpec(number=4, title="Webhook endpoint", rules=["WH002", "WH003", "WH004"],
                 where=f"{webhooks} → Create new destination, with the exact URL below"),
        ItemSpec(number=5, title="The 15 webhook events", rules=["WH006", "WH007"],
                 where="Select events → search, tick each event → Continue"),
        ItemSpec(number=6, title="Signing secret", rules=["WH001", "TEN004"],
                 where=f"{webhooks} → the endpoint → Signing secret → Reveal"),
        ItemSpec(number=7, title="Endpoint enabled", rules=["WH005"], where=f"{webhooks} → the endpoint"),
        ItemSpec(number=8, title=f"Endpoint in {env.stripe_mode} mode", rules=["WH009"],
                 where=f"Create the endpoint while the Dashboard is in {mode}"),
        ItemSpec(number=9, title="Only one enabled plenigo endpoint", rules=["WH008"], where=webhooks),
        ItemSpec(number=10, title="Recent deliveries succeed", rules=["WH010"],
                 where=f"{webhooks} → the endpoint → Event deliveries"),
    ]
    if env is Environment.LIVE:
        activation = "Dashboard home page and Settings → Business: what Stripe asks for"
        specs += [
            ItemSpec(number=11, title="Account can take payments", rules=["ACC004"], where=activation),
            ItemSpec(number=12, title="Payouts enabled", rules=["ACC005"], where=activation),
            ItemSpec(number=13, title="Nothing due with a deadline", rules=["ACC006"], where=activation),
        ]
    return specs


_WORST = [CheckStatus.ERROR, CheckStatus.FAIL, CheckStatus.WAIVED, CheckStatus.SKIPPED, CheckStatus.PASS]


def build_checklist(tenant: Tenant, env: Environment, result: RecordResult | None,
                    accept_waived: bool = False) -> Checklist:
    """The checklist for one record's results (None: the tenant has no record for ``env`` yet)."""
    base: dict[str, Any] = dict(company_id=tenant.company_id, tenant=tenant.name, environment=env.value,
                                instructions=setup_instructions(tenant, env))
    if result is None:
        return Checklist(**base, verdict=Verdict.NOT_READY,
                         reason=f"the tenant has no {env.value} record yet: create one with the steps above",
                         blocking=[f"no {env.value} record"])
    record = tenant.record(env)
    items = [_item(spec, result, record, accept_waived) for spec in item_specs(env)]
    blocking = [f"{i.number}. {i.title}" for i in items if i.blocking]
    errored = [f"{i.number}. {i.title}" for i in items if i.status is CheckStatus.ERROR]
    not_asked = result.evidence is not None and result.evidence.not_asked and not blocking
    if blocking:
        verdict, reason = Verdict.NOT_READY, "blocking: " + "; ".join(blocking)
    elif errored or not_asked:
        verdict = Verdict.CANNOT_CHECK
        reason = f"Stripe could not be asked: {result.error or result.evidence.not_asked}"  # type: ignore[union-attr]
    else:
        verdict, reason = Verdict.READY, "every critical and high item passes"
    return Checklist(**base, items=items, verdict=verdict, reason=reason, blocking=blocking)


def _item(spec: ItemSpec, result: RecordResult, record: Record | None, accept_waived: bool) -> Item:
    checks = [c for c in (result.check(r) for r in spec.rules) if c is not None]
    status = next((s for s in _WORST if any(c.status is s for c in checks)), CheckStatus.SKIPPED)
    item = Item(number=spec.number, title=spec.title, where=spec.where, status=status, rules=spec.rules,
                blocking=any(_blocks(c, accept_waived) for c in checks))
    skipped_for_mode = next((c for c in checks if c.details.get("see") == "KEY004"), None)
    if skipped_for_mode is not None:  # say why, once: the operator fixes KEY004 first
        item.findings.append(f"{skipped_for_mode.rule} skipped: {skipped_for_mode.message}")
    for check in checks:
        if check.status in (CheckStatus.FAIL, CheckStatus.ERROR, CheckStatus.WAIVED):
            note = f" (waived until {check.waiver.expires} by {check.waiver.approved_by}: {check.waiver.reason})" \
                if check.waiver else ""
            item.findings.append(f"{check.rule} [{check.severity.value}] {check.status.value}: {check.message}{note}")
        if check.status is CheckStatus.FAIL and check.remediation:
            item.actions.append(check.remediation)
    item.evidence = _evidence(spec.number, result, record)
    if spec.number == 5 and item.status is not CheckStatus.SKIPPED:
        item.events = _events(result)
    return item


def _blocks(check: CheckResult, accept_waived: bool) -> bool:
    """A failed critical or high check blocks; so does a waived critical one, unless accepted."""
    if not check.severity.at_least(Severity.HIGH):
        return False
    if check.status is CheckStatus.FAIL:
        return True
    return check.status is CheckStatus.WAIVED and check.severity is Severity.CRITICAL and not accept_waived


def _evidence(number: int, result: RecordResult, record: Record | None) -> list[str]:
    """What the item was checked against, redacted."""
    ev = result.evidence
    if record is None:
        return []
    env = Environment(result.environment)
    if number == 1:
        stripe = f"; the secret key belongs to {ev.account.id}" if ev and ev.account else ""
        return [f"record: {record.account_id or '(none)'}{stripe}"]
    if number == 2:
        return [f"record: {mask(record.publishable_key)}"]
    if number == 3:
        key = record.secret_key
        return [f"record: {mask(key.reveal())} from {key.origin} ({key.source})" if key else "record: (none)"]
    if number == 4:
        found = _chosen(result)
        return [f"expected: {callback_url(result.company_id, env)}",
                f"found: {found.url} ({found.id})" if found else
                "found: not judged" if _not_judged(result) else "found: no endpoint pointing at plenigo"]
    if number == 6:
        secret = record.signing_secret
        return [f"record: {mask(secret.reveal()) if secret else '(none)'}"]
    found = _chosen(result) if number in (7, 8) else None
    if found is not None:
        return [f"{found.id}: status {found.status}, {'live' if found.livemode else 'test'} mode"]
    if number == 9 and ev and ev.webhook_endpoints is not None:
        return [f"{len(ev.webhook_endpoints)} endpoint(s) on the account"]
    if number == 10 and ev and ev.failed_events is not None:
        return [f"{len(ev.failed_events)} undelivered event(s) since {ev.failed_events_since:%Y-%m-%d}"
                if ev.failed_events_since else f"{len(ev.failed_events)} undelivered event(s)"]
    if number in _ACCOUNT_FLAGS and ev and ev.account:
        a = ev.account
        return [", ".join(f"{name}: {_yes_no(getattr(a, name))}" for name in _ACCOUNT_FLAGS[number])]
    if number == 13 and ev and ev.account:
        a = ev.account
        return [f"past due: {', '.join(a.past_due) or 'nothing'}; currently due: "
                f"{', '.join(a.requirements_due) or 'nothing'}; deadline: "
                + (datetime.fromtimestamp(a.current_deadline, UTC).strftime("%Y-%m-%d")
                   if a.current_deadline else "none")]
    return []


_ACCOUNT_FLAGS = {11: ("charges_enabled", "details_submitted"), 12: ("payouts_enabled",)}


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _chosen(result: RecordResult) -> WebhookEndpoint | None:
    """The endpoint the WH checks judged, as the engine recorded it (it knows the fleet: another tenant's
    endpoint is never it). A results.json older than that record falls back on the endpoint the checks name."""
    ev = result.evidence
    if not ev or not ev.webhook_endpoints:
        return None
    judged = [c for c in (result.check(r) for r in ("WH002", "WH003", "WH004", "WH005")) if c is not None]
    if any(c.status is CheckStatus.SKIPPED for c in judged[:1]):
        return None  # Stripe was not asked, or answered for the other mode (KEY004)
    chosen = result.chosen_endpoint
    if chosen is None and result.endpoint_roles is None:
        named = [c.details.get("endpoint") for c in judged]
        chosen = next((n for n in named if isinstance(n, str)), None)
    return next((e for e in ev.webhook_endpoints if e.id == chosen), None)


def _not_judged(result: RecordResult) -> bool:
    check = result.check("WH002")
    return check is None or check.status is CheckStatus.SKIPPED


def _events(result: RecordResult) -> list[tuple[str, bool]]:
    found = _chosen(result)
    enabled = set(found.enabled_events) if found else set()
    return [(event, "*" in enabled or event in enabled) for event in REQUIRED_EVENTS]


def setup_instructions(tenant: Tenant, env: Environment) -> list[str]:
    """The guide's steps with this tenant's values filled in (needs no Stripe access, shows no secret)."""
    mode = DASHBOARD_MODE[env]
    url = callback_url(tenant.company_id, env)
    return [
        f"Open the Stripe Dashboard and switch to {mode}: the {env.value} record uses Stripe {env.stripe_mode} mode.",
        "Stripe account ID: click the gear symbol in the right-hand corner, then Profile, scroll to the very bottom "
        "of the page; the ID is listed under Accounts (acct_…). Enter it as account_id.",
        "Publishable key: click Developers, then the API keys tab; click the Publishable key "
        f"({PUBLISHABLE_PREFIX[env]}…) to copy it. Enter it as publishable_key.",
        _secret_key_step(env),
        "Webhook: open the Webhooks tab of Workbench (dashboard.stripe.com/webhooks; the guide's Developers → "
        "Webhooks in the older Developers Dashboard) and click Create new destination (older: + Add endpoint); "
        "choose Events on your account.",
        f"Events: search for and select these {len(REQUIRED_EVENTS)} events, then click Continue: "
        + ", ".join(REQUIRED_EVENTS) + ".",
        f"Choose Webhook endpoint, enter exactly: {url} and click Create destination.",
        "Signing secret: select the new endpoint, click Reveal under Signing secret and copy the whsec_… value; "
        "store it like the secret key. Stage and live endpoints each have their own signing secret.",
        f"Check that the endpoint's host is {CALLBACK_HOSTS[env]}, that it is enabled, and that it is the only "
        "enabled endpoint pointing at plenigo for this company.",
    ]


def _secret_key_step(env: Environment) -> str:
    """Stripe reveals a test key any time but a live key only once (Stripe's API keys docs)."""
    prefix = SECRET_PREFIXES[env][0]
    store = "Store it in an environment variable or a file, never in the tenant file."
    if env is Environment.STAGE:
        return f"Secret key: on the same tab click Reveal test key and copy the Secret key ({prefix}…). {store}"
    return (f"Secret key: use the live Secret key ({prefix}…) stored when it was created: Stripe shows a live "
            "secret key only once. If it is lost, roll it (⋯ → Roll key) or create a new secret key on the same "
            f"tab and copy it right away. {store}")
