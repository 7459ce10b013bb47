"""Synthetic runs for the report tests and the report benchmark: realistic records, no Stripe, no rules engine.

Every record lists every check of the catalogue that applies to it, as the
engine does; findings carry the details the renderers make concrete (WH004's
expected and found URL, WH006's missing events, errors with their reason,
waivers). :func:`fleet` makes N tenants with a realistic mix (about 70% of
records passing); :func:`record` makes one record of a chosen kind.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from auditor.evaluate import rule_catalogue
from auditor.evidence import Account, ErrorKind, Event, FetchError, RecordEvidence, WebhookEndpoint
from auditor.results import CheckResult, EndpointRole, RecordResult, RunResult, Severity, Waiver
from auditor.rules import all_rules
from auditor.rules.guide import REQUIRED_EVENTS

GENERATED_AT = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
HOSTS = {"live": "callbacks.plenigo.com", "stage": "callbacks.plenigo-stage.com"}
MODE = {"live": "live mode (the slider at the top right is grey)",
        "stage": "test mode (the slider at the top right is orange)"}

# kinds of record, and how often a fleet has them
KINDS = {
    "pass": 70, "wrong_path": 6, "missing_events": 6, "stage_host": 3, "not_activated": 3,
    "inline_secret": 3, "extra_events": 3, "waived": 2, "error": 4,
}


def callback_url(company_id: str, environment: str) -> str:
    return f"https://{HOSTS[environment]}/callbacks/v1.0/stripe/{company_id}"


def _id(rng: random.Random, prefix: str, n: int = 24) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789") for _ in range(n))


def _fix(environment: str, text: str) -> str:
    return f"In the Stripe Dashboard, in {MODE[environment]}, click Developers, then the Webhooks tab. {text}"


def _failure(kind: str, company_id: str, environment: str, endpoint: str, rng: random.Random) -> dict[str, dict]:
    """The non-passing checks of a record of ``kind``: rule ID → CheckResult fields."""
    url = callback_url(company_id, environment)
    if kind == "wrong_path":
        found = url.replace("/v1.0/", "/v1/") + "/"
        return {"WH004": dict(
            status="fail",
            message="the endpoint path is wrong: it has a trailing slash; it has the version v1 instead of v1.0",
            details={"expected": url, "found": found, "problems": ["trailing slash", "v1 instead of v1.0"],
                     "endpoint": endpoint},
            remediation=_fix(environment, f"Open the endpoint {found}, click ⋯ → Update details and replace the "
                                          f"endpoint URL with:\n  {url}"))}
    if kind == "stage_host":
        found = url.replace(HOSTS["live"], HOSTS["stage"]) if environment == "live" else url.replace("https:", "http:")
        problem = ("it points at the stage host callbacks.plenigo-stage.com on the live record"
                   if environment == "live" else "it uses http instead of https")
        return {"WH003": dict(
            status="fail", message=f"the endpoint URL is wrong: {problem}",
            details={"expected": url, "found": found, "endpoint": endpoint},
            remediation=_fix(environment, f"Open the endpoint {found}, click ⋯ → Update details and replace the "
                                          f"endpoint URL with:\n  {url}"))}
    if kind == "missing_events":
        missing = sorted(rng.sample(REQUIRED_EVENTS, rng.choice([1, 2, 3, 5])))
        steps = "\n".join(f"  - {e}" for e in missing)
        return {"WH006": dict(
            status="fail", message=f"{len(missing)} of 15 required events are not subscribed",
            details={"missing": missing, "endpoint": endpoint},
            remediation=_fix(environment, f"Open the endpoint {url}, click ⋯ → Update details, then + Select "
                                          f"events; search for and tick each of these events, then click Update "
                                          f"endpoint:\n{steps}"))}
    if kind == "extra_events":
        return {"WH007": dict(
            status="fail", message="2 event(s) beyond the 15 are subscribed",
            details={"extra": ["customer.created", "invoice.paid"], "endpoint": endpoint},
            remediation=_fix(environment, f"Open the endpoint {url}, click ⋯ → Update details, and remove the "
                                          f"events not in plenigo's list:\n  - customer.created\n  - invoice.paid"))}
    if kind == "not_activated":
        return {"ACC004": dict(
            status="fail", message="the live account is not activated: payouts_enabled, details_submitted false",
            details={"not_enabled": ["payouts_enabled", "details_submitted"],
                     "requirements_due": ["external_account", "representative.dob.day"]},
            remediation="In the Stripe Dashboard (live mode) complete the account activation: Stripe lists what is "
                        "missing under Settings → Business details (currently: external_account, "
                        "representative.dob.day).")}
    if kind == "inline_secret":
        return {"KEY007": dict(
            status="fail", message="secret_key written into the tenant file",
            details={"fields": ["secret_key"]},
            remediation=f"Move secret_key of the {environment} record of {company_id} out of the tenant file: "
                        f"store the value in an environment variable or a file readable only by the auditor, "
                        f"and write secret_key = {{ env = \"NAME\" }} or {{ file = \"/run/secrets/…\" }} instead.")}
    if kind == "waived":
        return {"WH008": dict(
            status="waived", message="2 endpoints point at plenigo for this company",
            details={"endpoints": [endpoint, "we_" + "2" * 24]},
            waiver=Waiver(reason="second endpoint kept during the migration to the new account",
                          approved_by="payments-lead@plenigo.test", expires="2026-12-31", company_id=company_id))}
    if kind == "error":
        reason = ("the key may not read this (HTTP 403: a restricted key without that permission) "
                  "for /v1/webhook_endpoints")
        rules = ("WH002", "WH003", "WH004", "WH005", "WH006", "WH007", "WH008", "WH009")
        return {r: dict(status="error", message=reason, details={"error_kind": "permission", "http_status": 403})
                for r in rules}
    return {}


def record(company_id: str, tenant: str, environment: str, kind: str = "pass", seed: int = 0,
           tenant_has_both: bool = True) -> RecordResult:
    """One record of ``kind`` (see :data:`KINDS`), every applicable check listed."""
    rng = random.Random(f"{company_id}/{environment}/{seed}")
    account = _id(rng, "acct_1", 15)
    endpoint = _id(rng, "we_")
    key_hint = f"sk_{'live' if environment == 'live' else 'test'}_…{_id(rng, '', 4)}"
    special = _failure(kind, company_id, environment, endpoint, rng)
    if kind == "not_activated" and environment != "live":
        special = {}
    checks = []
    for rule in all_rules():
        if environment not in {e.value for e in rule.environments}:
            continue
        fields = special.get(rule.id)
        if fields is None and rule.id == "TEN001" and not tenant_has_both:
            fields = dict(status="fail", message="the tenant has no live record yet",
                          remediation=f"When {tenant} goes live, add a [tenants.live] record for {company_id}.")
        if fields is None:
            fields = dict(status="pass", message=f"{rule.title[:1].lower()}{rule.title[1:]}",
                          details={"endpoint": endpoint} if rule.id.startswith("WH0") else {})
        checks.append(CheckResult(rule=rule.id, slug=rule.slug, severity=Severity(rule.severity.value),
                                  title=rule.title, **fields))
    url = callback_url(company_id, environment)
    found = special.get("WH004", special.get("WH003", {})).get("details", {}).get("found", url)
    missing = special.get("WH006", {}).get("details", {}).get("missing", [])
    extra = special.get("WH007", {}).get("details", {}).get("extra", [])
    evidence = RecordEvidence(
        company_id=company_id, environment=environment, collected_at=GENERATED_AT, key_hint=key_hint,
        account=Account(id=account, charges_enabled=True, payouts_enabled=kind != "not_activated",
                        details_submitted=kind != "not_activated", country="DE", business_name=tenant),
        webhook_endpoints=None if kind == "error" else [WebhookEndpoint(
            id=endpoint, url=found, status="enabled", livemode=environment == "live", description="plenigo callbacks",
            enabled_events=[e for e in REQUIRED_EVENTS if e not in missing] + extra, created=1700000000)],
        webhook_endpoints_error=FetchError(kind=ErrorKind.PERMISSION, message="restricted key", http_status=403,
                                           path="/v1/webhook_endpoints") if kind == "error" else None,
        failed_events=[] if kind != "missing_events" else [
            Event(id=_id(rng, "evt_"), type="payment_intent.succeeded", created=1763700000, pending_webhooks=1)],
        failed_events_since=GENERATED_AT - timedelta(days=7),
        requests_made=3,
    )
    result = RecordResult(company_id=company_id, tenant=tenant, environment=environment, checks=checks,
                          status=RecordResult.status_of(checks), evidence=evidence,
                          endpoint_roles=None if kind == "error" else {endpoint: EndpointRole.CHOSEN})
    if kind == "error":
        result.error = special["WH002"]["message"]
    return result


def company_id(i: int) -> str:
    return f"T{i:06d}" + "PLENIGOFLEET"[: 20 - 7] + "0"


def fleet(tenants: int, seed: int = 7) -> RunResult:
    """``tenants`` tenants (about 5% stage only), records drawn from :data:`KINDS` (about 70% pass)."""
    rng = random.Random(seed)
    kinds, weights = zip(*KINDS.items(), strict=True)
    records = []
    for i in range(tenants):
        cid, name = company_id(i), f"{rng.choice(NAMES)} {rng.choice(SUFFIXES)} {i}"
        envs = ("stage",) if rng.random() < 0.05 else ("stage", "live")
        for env in envs:
            kind = rng.choices(kinds, weights)[0]
            records.append(record(cid, name, env, kind, seed, tenant_has_both=len(envs) == 2))
    return run_of(records)


def run_of(records: list[RecordResult]) -> RunResult:
    run = RunResult(generated_at=GENERATED_AT, tool_version="0.1.0", config="tenants/fleet.toml",
                    mode="online", records=records, rules=rule_catalogue())
    run.summarise()
    return run


NAMES = ["Nordlicht", "Hafenblick", "Bergmann", "Kieler", "Alpenwelt", "Rheinufer", "Seeblick", "Elbtal",
         "Münsterland", "Spreewald", "Donau", "Harz", "Taunus", "Eifel", "Allgäu", "Ostsee"]
SUFFIXES = ["Verlag AG", "Medien KG", "Digital GmbH", "Rundschau GmbH", "Abo GmbH", "Podcasts UG", "Sport e.V.",
            "Zeitung GmbH & Co. KG", "Magazin GmbH", "News GmbH"]
