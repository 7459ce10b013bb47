"""Webhook rules (WH001–WH010): the signing secret and the endpoint Stripe delivers to plenigo."""

from __future__ import annotations

from datetime import timedelta

from auditor.evidence import WebhookEndpoint
from auditor.redact import mask
from auditor.results import Severity
from rules.base import Outcome, RecordContext, Source, failed, passed, rule, skipped
from rules.endpoints import choose_endpoint, for_company, host_problems, path_problems, points_at_plenigo
from rules.guide import REQUIRED_EVENTS
from rules.text import stray_characters

_WEBHOOKS = "In the Stripe Dashboard, in {mode}, click Developers, then the Webhooks tab. "
_ADD_ENDPOINT = (
    _WEBHOOKS + "Click + Add endpoint and enter the endpoint URL exactly:\n  {expected_url}\n"
    "Click + Select events, search for and select each of the 15 events below, click Add events, then at the very "
    "bottom click Add endpoint:\n{required_events}\n"
    "Finally click Reveal under the endpoint's signing secret and enter it as signing_secret of the {environment} "
    "record of {company_id}."
)
_NO_ENDPOINT = "no plenigo webhook endpoint (WH002)"
_ENDPOINT_RULE = dict(source=Source.STRIPE, needs=("webhook_endpoints",))


def _bullets(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"  - {item}" for item in items)


def _endpoint(ctx: RecordContext) -> WebhookEndpoint | None:
    return choose_endpoint(ctx.evidence.webhook_endpoints or [], ctx.company_id, ctx.environment)


def _where(endpoint: WebhookEndpoint) -> dict[str, str]:
    return {"endpoint": endpoint.id, "endpoint_url": endpoint.url}


@rule(
    id="WH001", slug="signing-secret-format", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The signing secret is present and well-formed",
    checks="signing_secret is set, starts with whsec_, and has no whitespace.",
    why="plenigo verifies every webhook with this secret; without it (or with a mangled one) every event from "
        "Stripe is rejected and payments stay unconfirmed.",
    remediation=_WEBHOOKS + "Open the endpoint for {expected_url}, click Reveal under Signing secret, copy the "
                "whsec_… value and store it for signing_secret of the {environment} record of {company_id}, "
                "exactly as copied{problem}.",
)
def signing_secret_format(ctx: RecordContext) -> Outcome:
    secret = ctx.record.signing_secret
    value = secret.reveal() if secret else ""
    if not value:
        return failed("the record has no webhook signing secret", fill={"problem": ""})
    stray = stray_characters(value)
    if stray:
        return failed(f"the signing secret {mask(value)} contains {stray}",
                      fill={"problem": f" (the value in the record contains {stray})"})
    if not value.startswith("whsec_"):
        return failed("the signing secret does not start with whsec_",
                      fill={"problem": " (a signing secret starts with whsec_; an sk_/pk_ key is not one)"})
    return passed(f"{mask(value)} is a well-formed signing secret")


@rule(
    id="WH002", slug="endpoint-registered", severity=Severity.CRITICAL, **_ENDPOINT_RULE,
    title="A webhook endpoint points at plenigo's callbacks",
    checks="The Stripe account has a webhook endpoint whose URL points at plenigo's callbacks host.",
    why="Without it Stripe never tells plenigo that a payment succeeded, failed or was disputed.",
    remediation=_ADD_ENDPOINT,
)
def endpoint_registered(ctx: RecordContext) -> Outcome:
    endpoints = ctx.evidence.webhook_endpoints or []
    ours = [e for e in endpoints if points_at_plenigo(e)]
    if not ours:
        others = f" ({len(endpoints)} endpoint(s) point elsewhere)" if endpoints else ""
        return failed(f"no webhook endpoint points at plenigo{others}",
                      fill={"required_events": _bullets(REQUIRED_EVENTS)},
                      expected=ctx.expected_url, endpoints=[e.url for e in endpoints][:10])
    return passed(f"{len(ours)} endpoint(s) point at plenigo", endpoints=[e.id for e in ours])


@rule(
    id="WH003", slug="endpoint-host-environment", severity=Severity.CRITICAL, **_ENDPOINT_RULE,
    title="The endpoint uses the environment's callbacks host over https",
    checks="The endpoint's URL is https://callbacks.plenigo.com/… on live and "
           "https://callbacks.plenigo-stage.com/… on stage.",
    why="Events sent to the other system's host are processed by the wrong plenigo system or not at all.",
    remediation=_WEBHOOKS + "Open the endpoint {endpoint_url}, click ⋯ → Update details and replace the endpoint URL "
                "with:\n  {expected_url}",
)
def endpoint_host_environment(ctx: RecordContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    problems = host_problems(endpoint.url, ctx.environment)
    if problems:
        return failed(f"the endpoint URL is wrong: {'; '.join(problems)}", fill=_where(endpoint),
                      expected=ctx.expected_url, found=endpoint.url, problems=problems, endpoint=endpoint.id)
    return passed(f"{endpoint.id} uses https://{endpoint.url.split('/')[2]}", endpoint=endpoint.id)


@rule(
    id="WH004", slug="endpoint-company-id", severity=Severity.CRITICAL, **_ENDPOINT_RULE,
    title="The endpoint's path is /callbacks/v1.0/stripe/<companyID>",
    checks="The URL path is exactly /callbacks/v1.0/stripe/<companyID> for this tenant: no trailing slash, no "
           "query, same case.",
    why="plenigo routes each event by the companyID in the path; a wrong one delivers the tenant's payments to "
        "another tenant or to nobody.",
    remediation=_WEBHOOKS + "Open the endpoint {endpoint_url}, click ⋯ → Update details and replace the endpoint URL "
                "with:\n  {expected_url}\n(the companyID is in the plenigo Merchant Backend URL of the tenant).",
)
def endpoint_company_id(ctx: RecordContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    others = ctx.fleet.company_ids - {ctx.company_id}
    problems = path_problems(endpoint.url, ctx.company_id, others)
    if problems:
        return failed(f"the endpoint URL is wrong: {'; '.join(problems)}", fill=_where(endpoint),
                      expected=ctx.expected_url, found=endpoint.url, problems=problems, endpoint=endpoint.id)
    return passed(f"{endpoint.id} has the path of {ctx.company_id}", endpoint=endpoint.id)


@rule(
    id="WH005", slug="endpoint-enabled", severity=Severity.CRITICAL, **_ENDPOINT_RULE,
    title="The endpoint is enabled",
    checks="The endpoint's status is enabled.",
    why="Stripe sends nothing to a disabled endpoint (Stripe also disables endpoints that keep failing).",
    remediation=_WEBHOOKS + "Open the endpoint {endpoint_url} and click ⋯ → Enable endpoint. If Stripe disabled it "
                "after failed deliveries, fix the cause first (see WH010).",
)
def endpoint_enabled(ctx: RecordContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    if endpoint.status != "enabled":
        return failed(f"the endpoint {endpoint.id} is {endpoint.status}", fill=_where(endpoint),
                      endpoint=endpoint.id, status=endpoint.status)
    return passed(f"{endpoint.id} is enabled", endpoint=endpoint.id)


@rule(
    id="WH006", slug="events-complete", severity=Severity.CRITICAL, **_ENDPOINT_RULE,
    title="The endpoint subscribes to all 15 required events",
    checks="The endpoint's enabled events include all 15 events of the guide's table (or *).",
    why="Each missing event is a payment state plenigo never learns about: a succeeded payment stays open, a "
        "dispute goes unanswered.",
    remediation=_WEBHOOKS + "Open the endpoint {endpoint_url}, click ⋯ → Update details, then + Select events; "
                "search for and tick each of these events, then click Add events and Update endpoint:\n"
                "{missing_events}",
)
def events_complete(ctx: RecordContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    enabled = set(endpoint.enabled_events)
    if "*" in enabled:
        return passed("the endpoint subscribes to all events (*)", endpoint=endpoint.id)
    missing = [e for e in REQUIRED_EVENTS if e not in enabled]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        return failed(f"{len(missing)} of {len(REQUIRED_EVENTS)} required events {verb} not subscribed",
                      fill={**_where(endpoint), "missing_events": _bullets(missing)},
                      missing=missing, endpoint=endpoint.id)
    return passed(f"all {len(REQUIRED_EVENTS)} required events are subscribed", endpoint=endpoint.id)


@rule(
    id="WH007", slug="events-extra", severity=Severity.INFO, **_ENDPOINT_RULE,
    title="The endpoint subscribes to no events beyond the 15",
    checks="Events beyond the 15 required ones (or * = all events) are listed: they are delivered for nothing.",
    why="plenigo ignores other events; delivering them costs traffic and clutters the delivery log.",
    remediation=_WEBHOOKS + "Open the endpoint {endpoint_url}, click ⋯ → Update details, and remove the events not "
                "in plenigo's list:\n{extra_events}",
)
def events_extra(ctx: RecordContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    if "*" in endpoint.enabled_events:
        return failed("the endpoint subscribes to all events (*), not just the 15",
                      fill={**_where(endpoint), "extra_events": "  - * (all events): select the 15 events instead"},
                      extra=["*"], endpoint=endpoint.id)
    extra = sorted(set(endpoint.enabled_events) - set(REQUIRED_EVENTS))
    if extra:
        return failed(f"{len(extra)} event(s) beyond the 15 are subscribed",
                      fill={**_where(endpoint), "extra_events": _bullets(extra)}, extra=extra, endpoint=endpoint.id)
    return passed("no events beyond the 15", endpoint=endpoint.id)


@rule(
    id="WH008", slug="endpoint-unique", severity=Severity.MEDIUM, **_ENDPOINT_RULE,
    title="Exactly one endpoint points at plenigo for this company",
    checks="Only one of the account's webhook endpoints points at plenigo for this companyID.",
    why="Two endpoints deliver every event twice: plenigo processes duplicates and the delivery log is "
        "misleading.",
    remediation=_WEBHOOKS + "Keep the endpoint with the URL {expected_url} and delete the others (⋯ → Delete "
                "endpoint):\n{duplicates}",
)
def endpoint_unique(ctx: RecordContext) -> Outcome:
    endpoints = ctx.evidence.webhook_endpoints or []
    ours = [e for e in endpoints if points_at_plenigo(e) and for_company(e, ctx.company_id)]
    if not any(points_at_plenigo(e) for e in endpoints):
        return skipped(_NO_ENDPOINT)
    if len(ours) > 1:
        keep = choose_endpoint(ours, ctx.company_id, ctx.environment)
        extra = [f"{e.id} {e.url}" for e in ours if e is not keep]
        return failed(f"{len(ours)} endpoints point at plenigo for {ctx.company_id}",
                      fill={"duplicates": _bullets(extra)}, endpoints=[f"{e.id} {e.url}" for e in ours])
    return passed("one endpoint points at plenigo for this company" if ours else
                  "no second endpoint for this company")


@rule(
    id="WH009", slug="endpoint-mode", severity=Severity.HIGH, **_ENDPOINT_RULE,
    title="The endpoint is in the environment's Stripe mode",
    checks="The endpoint's livemode is true on the live record and false on the stage record.",
    why="A test-mode endpoint only receives test events: live payments would never reach plenigo.",
    remediation="Switch the Stripe Dashboard to {mode} and create the endpoint there: Developers → Webhooks → "
                "+ Add endpoint with the URL {expected_url} and the 15 events; then copy its signing secret into "
                "the {environment} record of {company_id}.",
)
def endpoint_mode(ctx: RecordContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    want = ctx.environment.stripe_mode == "live"
    if endpoint.livemode is None:
        return skipped("Stripe did not say the endpoint's mode")
    if endpoint.livemode != want:
        found = "live" if endpoint.livemode else "test"
        return failed(f"the endpoint {endpoint.id} is a {found}-mode endpoint on the {ctx.environment.value} record",
                      endpoint=endpoint.id, livemode=endpoint.livemode)
    return passed(f"{endpoint.id} is a {ctx.environment.stripe_mode}-mode endpoint", endpoint=endpoint.id)


@rule(
    id="WH010", slug="deliveries-healthy", severity=Severity.HIGH, source=Source.STRIPE,
    needs=("failed_events",),
    title="Recent events were delivered",
    checks="No event of the last {window_days} days is still pending or failed delivery "
           "(GET /v1/events?delivery_success=false).",
    why="Undelivered events mean plenigo missed payment updates; the usual cause is a wrong signing secret in "
        "plenigo, so plenigo rejects every delivery.",
    remediation=_WEBHOOKS + "Open the endpoint {expected_url} and look at the failed deliveries. If plenigo answered "
                "400, the signing secret is wrong: click Reveal under Signing secret and enter that value as "
                "signing_secret of the {environment} record of {company_id}. Then resend the failed events from "
                "the endpoint's event list.",
)
def deliveries_healthy(ctx: RecordContext) -> Outcome:
    evidence = ctx.evidence
    since = evidence.failed_events_since or (ctx.settings.now - timedelta(days=ctx.settings.delivery_window_days))
    events = [e for e in evidence.failed_events or [] if e.created >= since.timestamp()]
    days = ctx.settings.delivery_window_days
    if events:
        more = " (or more: the list was cut short)" if evidence.failed_events_truncated else ""
        sample = [f"{e.id} {e.type}" for e in sorted(events, key=lambda e: -e.created)[:10]]
        return failed(f"{len(events)} event(s) of the last {days} days are still pending or failed delivery{more}",
                      count=len(events), events=sample, truncated=evidence.failed_events_truncated)
    return passed(f"every event of the last {days} days was delivered")
