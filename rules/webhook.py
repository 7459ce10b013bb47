"""Webhook rules (WH001–WH010): the signing secret and the endpoint Stripe delivers to plenigo."""

from __future__ import annotations

from datetime import timedelta

from auditor.evidence import Event, WebhookEndpoint
from auditor.redact import mask
from auditor.results import Severity
from auditor.rules.base import Outcome, Source, failed, passed, skipped
from auditor.rules.context import DeliveriesContext, EndpointsContext, RecordContext, StripeContext
from auditor.rules.endpoints import (
    best_of,
    candidates,
    choose_endpoint,
    for_company,
    host_problems,
    path_problems,
    taken_by_others,
)
from auditor.rules.guide import REQUIRED_EVENTS
from auditor.rules.registry import rule
from auditor.rules.text import stray_characters

_WEBHOOKS = ("In the Stripe Dashboard, in {mode}, open the Webhooks tab of Workbench (dashboard.stripe.com/webhooks; "
             "in the older Developers Dashboard: Developers → Webhooks). ")
_ADD_ENDPOINT = (
    _WEBHOOKS + "Click Create new destination (older Dashboard: + Add endpoint), choose Events on your account, "
    "search for and select each of the 15 events below, click Continue, choose Webhook endpoint and enter the "
    "endpoint URL exactly:\n  {expected_url}\nthen click Create destination. The 15 events:\n{required_events}\n"
    "Finally open the new endpoint, click Reveal under Signing secret and enter it as signing_secret of the "
    "{environment} record of {company_id}.{leave_alone}"
)
_EDIT_URL = ("Select the endpoint {endpoint} ({endpoint_url}), open its ⋯ menu → Edit destination (older Dashboard: "
             "Update details) and replace the endpoint URL with:\n  {expected_url}")
_NO_ENDPOINT = "no plenigo webhook endpoint (WH002)"
_WHERE = ("endpoint", "endpoint_url")  # the fill of _where()


def _bullets(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"  - {item}" for item in items)


def _endpoint(ctx: StripeContext) -> WebhookEndpoint | None:
    """The endpoint the webhook rules judge: this tenant's plenigo endpoint (endpoints.choose_endpoint)."""
    return choose_endpoint(ctx.evidence.webhook_endpoints or [], ctx.company_id, ctx.environment, ctx.taken_urls)


def _where(endpoint: WebhookEndpoint) -> dict[str, str]:
    return {"endpoint": endpoint.id, "endpoint_url": endpoint.url}


@rule(
    id="WH001", slug="signing-secret-format", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The signing secret is present and well-formed",
    checks="signing_secret is set, starts with whsec_, and has no whitespace.",
    why="plenigo verifies every webhook with this secret; without it (or with a mangled one) every event from "
        "Stripe is rejected and payments stay unconfirmed.",
    remediation=_WEBHOOKS + "Select the endpoint {expected_url}, click Reveal under Signing secret, copy the "
                "whsec_… value and store it for signing_secret of the {environment} record of {company_id}, "
                "exactly as copied{problem}.",
    fills=("problem",),
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
    id="WH002", slug="endpoint-registered", severity=Severity.CRITICAL, source=Source.STRIPE, mode_bound=True,
    title="A webhook endpoint points at plenigo's callbacks",
    checks="The Stripe account has a webhook endpoint for this tenant at plenigo's callbacks: a callbacks host or a "
           "look-alike, or the path shape /callbacks/…/stripe/…. An endpoint that merely mentions plenigo elsewhere "
           "is the merchant's own; one at exactly another tenant's URL (a tenant on the same account) is that "
           "tenant's.",
    why="Without it Stripe never tells plenigo that a payment succeeded, failed or was disputed. The fix only ever "
        "adds an endpoint: the merchant's own endpoints and other tenants' are left alone.",
    remediation=_ADD_ENDPOINT,
    fills=("required_events", "leave_alone"),
)
def endpoint_registered(ctx: EndpointsContext) -> Outcome:
    endpoints = ctx.endpoints
    taken = ctx.taken_urls
    ours = candidates(endpoints, taken)
    if ours:
        return passed(f"{len(ours)} endpoint(s) point at plenigo", endpoints=[e.id for e in ours])
    theirs = taken_by_others(endpoints, taken)
    leave = "".join(f"\nLeave {e.id} ({e.url}) alone: it is the endpoint of tenant {cid} on the same Stripe "
                    "account." for e, cid in theirs)
    note = "; " + ", ".join(f"{e.id} is tenant {cid}'s" for e, cid in theirs) if theirs else ""
    others = len(endpoints) - len(theirs)
    elsewhere = f" ({others} endpoint(s) point elsewhere{note})" if others else f" ({note[2:]})" if note else ""
    return failed(f"no webhook endpoint points at plenigo for {ctx.company_id}{elsewhere}",
                  fill={"required_events": _bullets(REQUIRED_EVENTS), "leave_alone": leave},
                  expected=ctx.expected_url, endpoints=[e.url for e in endpoints][:10],
                  other_tenants=[e.id for e, _ in theirs])


@rule(
    id="WH003", slug="endpoint-host-environment", severity=Severity.CRITICAL, source=Source.STRIPE, mode_bound=True,
    title="The endpoint uses the environment's callbacks host over https",
    checks="The endpoint's URL is https://callbacks.plenigo.com/… on live and "
           "https://callbacks.plenigo-stage.com/… on stage.",
    why="Events sent to the other system's host are processed by the wrong plenigo system or not at all.",
    remediation=_WEBHOOKS + _EDIT_URL,
    fills=_WHERE,
)
def endpoint_host_environment(ctx: EndpointsContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    problems = host_problems(endpoint.url, ctx.environment)
    if problems:
        return failed(f"the endpoint URL is wrong: {'; '.join(problems)}", fill=_where(endpoint),
                      expected=ctx.expected_url, found=endpoint.url, problems=problems, endpoint=endpoint.id)
    return passed(f"{endpoint.id} uses https://{endpoint.url.split('/')[2]}", endpoint=endpoint.id)


@rule(
    id="WH004", slug="endpoint-company-id", severity=Severity.CRITICAL, source=Source.STRIPE, mode_bound=True,
    title="The endpoint's path is /callbacks/v1.0/stripe/<companyID>",
    checks="The URL path is exactly /callbacks/v1.0/stripe/<companyID> for this tenant: no trailing slash, no "
           "query, same case.",
    why="plenigo routes each event by the companyID in the path; a wrong one delivers the tenant's payments to "
        "another tenant or to nobody.",
    remediation=_WEBHOOKS + _EDIT_URL + "\n(the companyID is in the plenigo Merchant Backend URL of the tenant).",
    fills=_WHERE,
)
def endpoint_company_id(ctx: EndpointsContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    # the whole fleet's IDs, not a copy without this one (a set of 10,000 per record): its own matches first
    problems = path_problems(endpoint.url, ctx.company_id, ctx.fleet.company_ids)
    if problems:
        return failed(f"the endpoint URL is wrong: {'; '.join(problems)}", fill=_where(endpoint),
                      expected=ctx.expected_url, found=endpoint.url, problems=problems, endpoint=endpoint.id)
    return passed(f"{endpoint.id} has the path of {ctx.company_id}", endpoint=endpoint.id)


@rule(
    id="WH005", slug="endpoint-enabled", severity=Severity.CRITICAL, source=Source.STRIPE, mode_bound=True,
    title="The endpoint is enabled",
    checks="The endpoint's status is enabled.",
    why="Stripe sends nothing to a disabled endpoint (Stripe also disables endpoints that keep failing), and it "
        "does not resend the events created while the endpoint was disabled. When the exact URL exists twice, the "
        "enabled one is judged: a disabled twin is not a finding here (WH008 mentions it).",
    remediation=_WEBHOOKS + "Select the endpoint {endpoint} ({endpoint_url}) and enable it from its ⋯ menu. If Stripe "
                "disabled it after failed deliveries, fix the cause first (WH010, WH001). Stripe does not resend "
                "the events created while it was disabled: ask plenigo to reconcile {company_id}'s payments of that "
                "period. Once enabled, click Reveal under its Signing secret: if that is not the signing_secret "
                "of the {environment} record of {company_id}, enter it there before deleting or disabling any "
                "other endpoint for {company_id} (WH008), which may be the one delivering today.",
    fills=_WHERE,
)
def endpoint_enabled(ctx: EndpointsContext) -> Outcome:
    endpoint = _endpoint(ctx)
    if endpoint is None:
        return skipped(_NO_ENDPOINT)
    if endpoint.status != "enabled":
        # An enabled near miss may be what delivers today, with the record's signing secret.
        live = [e.id for e in candidates(ctx.endpoints, ctx.taken_urls)
                if e.status == "enabled" and for_company(e, ctx.company_id)]
        also = f" ({', '.join(live)} for this company is enabled and may be delivering)" if live else ""
        return failed(f"the endpoint {endpoint.id} is {endpoint.status}{also}", fill=_where(endpoint),
                      endpoint=endpoint.id, status=endpoint.status, other_enabled=live)
    return passed(f"{endpoint.id} is enabled", endpoint=endpoint.id)


@rule(
    id="WH006", slug="events-complete", severity=Severity.CRITICAL, source=Source.STRIPE, mode_bound=True,
    title="The endpoint subscribes to all 15 required events",
    checks="The endpoint's enabled events include all 15 events of the guide's table (or *).",
    why="Each missing event is a payment state plenigo never learns about: a succeeded payment stays open, a "
        "dispute goes unanswered.",
    remediation=_WEBHOOKS + "Select the endpoint {endpoint} ({endpoint_url}), open its ⋯ menu → Edit destination "
                "(older Dashboard: Update details → + Select events); search for and tick each of these events and "
                "save:\n{missing_events}",
    fills=(*_WHERE, "missing_events"),
)
def events_complete(ctx: EndpointsContext) -> Outcome:
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
    id="WH007", slug="events-extra", severity=Severity.INFO, source=Source.STRIPE, mode_bound=True,
    title="The endpoint subscribes to no events beyond the 15",
    checks="Events beyond the 15 required ones (or * = all events) are listed: they are delivered for nothing.",
    why="plenigo ignores other events; delivering them costs traffic and clutters the delivery log.",
    remediation=_WEBHOOKS + "Select the endpoint {endpoint} ({endpoint_url}), open its ⋯ menu → Edit destination "
                "(older Dashboard: Update details), and remove the events not in plenigo's list:\n{extra_events}",
    fills=(*_WHERE, "extra_events"),
)
def events_extra(ctx: EndpointsContext) -> Outcome:
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
    id="WH008", slug="endpoint-unique", severity=Severity.MEDIUM, source=Source.STRIPE, mode_bound=True,
    title="Exactly one enabled endpoint points at plenigo for this company",
    checks="Only one of the account's enabled webhook endpoints points at plenigo for this companyID; disabled ones "
           "deliver nothing and are only mentioned.",
    why="Two enabled endpoints deliver every event twice: plenigo processes duplicates and the delivery log is "
        "misleading. The fix names the endpoint to keep (the one the other checks judge: the exact URL when "
        "enabled) and each to delete by its we_… ID, so the only delivering endpoint is never the one deleted.",
    remediation=_WEBHOOKS + "Keep the endpoint {keep}. Delete each of these (select it, then ⋯ → Delete "
                "destination):\n{duplicates}",
    fills=("keep", "duplicates"),
)
def endpoint_unique(ctx: EndpointsContext) -> Outcome:
    endpoints = ctx.endpoints
    mine = [e for e in candidates(endpoints, ctx.taken_urls) if for_company(e, ctx.company_id)]
    if not candidates(endpoints, ctx.taken_urls):
        return skipped(_NO_ENDPOINT)
    enabled = [e for e in mine if e.status == "enabled"]
    disabled = [e.id for e in mine if e.status != "enabled"]
    note = f" ({', '.join(disabled)} disabled: delivers nothing, not counted)" if disabled else ""
    if len(enabled) > 1:
        keep = best_of(enabled, ctx.company_id, ctx.environment)
        extra = [f"{e.id} {e.url}" for e in enabled if e is not keep]
        return failed(f"{len(enabled)} enabled endpoints point at plenigo for {ctx.company_id}: every event is "
                      f"delivered {len(enabled)} times; keep {keep.id}{note}",
                      fill={"keep": f"{keep.id} ({keep.url})", "duplicates": _bullets(extra)},
                      keep=keep.id, delete=[e.id for e in enabled if e is not keep], disabled=disabled,
                      endpoints=[f"{e.id} {e.url}" for e in enabled])
    return passed(("one enabled endpoint points at plenigo for this company" if enabled else
                   "no enabled endpoint for this company delivers twice") + note, disabled=disabled)


@rule(
    id="WH009", slug="endpoint-mode", severity=Severity.HIGH, source=Source.STRIPE, mode_bound=True,
    title="The endpoint is in the environment's Stripe mode",
    checks="The endpoint's livemode is true on the live record and false on the stage record.",
    why="A test-mode endpoint only receives test events: live payments would never reach plenigo.",
    remediation="Switch the Stripe Dashboard to {mode} and create the endpoint there: Workbench → Webhooks → "
                "Create new destination (older Dashboard: Developers → Webhooks → + Add endpoint) with the URL "
                "{expected_url} and the 15 events; then reveal its signing secret and enter it as signing_secret "
                "of the {environment} record of {company_id}.",
)
def endpoint_mode(ctx: EndpointsContext) -> Outcome:
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
    id="WH010", slug="deliveries-healthy", severity=Severity.HIGH, source=Source.STRIPE, mode_bound=True,
    title="Recent events of the 15 required types were delivered",
    checks="No event of the 15 required types from the last 7 days (--delivery-window-days), older than 15 "
           "minutes (--delivery-grace-minutes), is still pending or failed delivery "
           "(GET /v1/events?delivery_success=false&types[]=…&created[gte]=…).",
    why="Undelivered events mean plenigo missed payment updates; the usual cause is a wrong signing secret in "
        "plenigo, so plenigo rejects every delivery. Only the 15 types plenigo subscribes to count, and events "
        "younger than the grace period are left out: Stripe may still be delivering them. Stripe lists events "
        "that failed to reach any endpoint without saying which: where another enabled endpoint of the account "
        "also subscribes to a failing type, the finding says it may be that endpoint's; without a plenigo endpoint "
        "(WH002) the check is skipped, since the failures cannot be plenigo's.",
    remediation=_WEBHOOKS + "Select plenigo's endpoint {expected_url} and open its Event deliveries tab. If the "
                "events below failed there with HTTP 400 from plenigo, the signing secret is wrong: click Reveal "
                "under Signing secret and enter that value as signing_secret of the {environment} record of "
                "{company_id}; then resend the failed events from that tab. If they were delivered there, the "
                "failure is another endpoint's{other_endpoints}.\n{failed}",
    fills=("other_endpoints", "failed"),
)
def deliveries_healthy(ctx: DeliveriesContext) -> Outcome:
    if ctx.evidence.webhook_endpoints is not None and _endpoint(ctx) is None:
        # No plenigo endpoint: the failures are other endpoints'; blaming signing_secret has no target.
        return skipped(_NO_ENDPOINT)
    events = _failing_events(ctx)
    days = ctx.settings.delivery_window_days
    if not events:
        return passed(f"every event of the 15 required types from the last {days} days was delivered "
                      f"(events younger than {ctx.settings.delivery_grace_minutes} minutes not judged)")
    more = " (or more: the list was cut short)" if ctx.evidence.failed_events_truncated else ""
    others = _other_receivers(ctx, {e.type for e in events})
    maybe = f"; Stripe does not say which endpoint failed: it may be {', '.join(others)}" if others else ""
    sample = [f"{e.id} {e.type}" for e in sorted(events, key=lambda e: -e.created)[:10]]
    return failed(f"{len(events)} event(s) of the required types from the last {days} days are still pending or "
                  f"failed delivery{more}{maybe}",
                  fill={"failed": "Failed or pending events:\n" + _bullets(sample),
                        "other_endpoints": f" ({', '.join(others)}): check its deliveries" if others else ""},
                  count=len(events), events=sample, truncated=ctx.evidence.failed_events_truncated,
                  may_be_other_endpoints=others)


def _failing_events(ctx: DeliveriesContext) -> list[Event]:
    """Failed events of the 15 types, inside the window, older than the grace period at collection time."""
    evidence = ctx.evidence
    seen_at = evidence.collected_at or ctx.settings.now
    since = evidence.failed_events_since or (seen_at - timedelta(days=ctx.settings.delivery_window_days))
    settled = seen_at - timedelta(minutes=ctx.settings.delivery_grace_minutes)
    required = set(REQUIRED_EVENTS)
    return [e for e in ctx.failed_events
            if e.type in required and since.timestamp() <= e.created <= settled.timestamp()]


def _other_receivers(ctx: StripeContext, types: set[str]) -> list[str]:
    """Other enabled endpoints of the account that subscribe to one of these types (or *)."""
    plenigo = _endpoint(ctx)
    return [f"{e.id} ({e.url})" for e in ctx.evidence.webhook_endpoints or [] if e is not plenigo
            and e.status == "enabled" and ("*" in e.enabled_events or types & set(e.enabled_events))]
