"""What Stripe answered for one record: a serialisable model with no secret inside.

The collector fills it; the rules read it; ``--save-evidence`` writes it and
``--evidence`` reads it back, so a saved run can be re-audited without Stripe.
Only the fields the rules need are kept: nothing Stripe returns that could be
secret (a webhook endpoint's ``secret``) or personal is copied in.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict


class ErrorKind(str, Enum):
    """Why a read failed; each maps to a clear reason for the person reading."""

    AUTHENTICATION = "authentication"  # 401: key rejected, expired or rolled
    PERMISSION = "permission"  # 403: a restricted key may not read this
    NOT_FOUND = "not_found"  # 404
    RATE_LIMITED = "rate_limited"  # 429, still after retries
    SERVER = "server"  # 5xx, still after retries
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    INVALID_RESPONSE = "invalid_response"  # not JSON, truncated, wrong shape
    REFUSED = "refused"  # the read-only guard stopped a non-GET request
    OTHER = "other"


class Part(str, Enum):
    """One answer asked of Stripe for a record; a rule's context names the parts it needs."""

    ACCOUNT = "account"  # GET /v1/account
    WEBHOOK_ENDPOINTS = "webhook_endpoints"  # GET /v1/webhook_endpoints
    FAILED_EVENTS = "failed_events"  # GET /v1/events?delivery_success=false


class FetchError(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ErrorKind
    message: str
    http_status: int | None = None
    request_id: str | None = None
    path: str | None = None


class Account(BaseModel):
    """The subset of Stripe's ``account`` object that the rules need."""

    model_config = ConfigDict(frozen=True)

    id: str
    charges_enabled: bool | None = None
    payouts_enabled: bool | None = None
    details_submitted: bool | None = None
    country: str | None = None
    business_name: str | None = None
    requirements_due: list[str] = []  # requirements.currently_due
    disabled_reason: str | None = None
    # Added later: evidence saved by older runs lacks them and still loads (empty / None).
    past_due: list[str] = []  # requirements.past_due
    current_deadline: int | None = None  # requirements.current_deadline (Unix time)


class WebhookEndpoint(BaseModel):
    """The subset of Stripe's ``webhook_endpoint`` object (never its ``secret``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    status: str
    enabled_events: list[str] = []
    livemode: bool | None = None
    description: str | None = None
    api_version: str | None = None
    created: int | None = None


class Event(BaseModel):
    """An event whose delivery to some endpoint is still pending or failed."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    created: int
    pending_webhooks: int = 0
    livemode: bool | None = None


class RecordEvidence(BaseModel):
    """Everything asked of Stripe for one record, including what failed and why.

    ``not_asked`` is set when Stripe was deliberately not asked (offline mode, no
    usable secret key): the Stripe rules are then ``skipped``. A ``*_error`` is
    set when asking failed: the rules that needed that answer are ``error``.
    """

    company_id: str
    environment: str
    collected_at: datetime | None = None
    api_base: str | None = None
    key_hint: str | None = None
    not_asked: str | None = None

    account: Account | None = None
    account_error: FetchError | None = None

    webhook_endpoints: list[WebhookEndpoint] | None = None
    webhook_endpoints_error: FetchError | None = None

    failed_events: list[Event] | None = None
    failed_events_error: FetchError | None = None
    failed_events_since: datetime | None = None
    failed_events_truncated: bool = False

    requests_made: int = 0

    def error_for(self, part: Part | str) -> FetchError | None:
        """Why one part could not be read (None when it was read, or not asked)."""
        errors = {Part.ACCOUNT: self.account_error, Part.WEBHOOK_ENDPOINTS: self.webhook_endpoints_error,
                  Part.FAILED_EVENTS: self.failed_events_error}
        return errors[Part(part)]

    def answered(self, part: Part) -> bool:
        """True when Stripe's answer for this part is held (an empty list is an answer)."""
        answers = {Part.ACCOUNT: self.account, Part.WEBHOOK_ENDPOINTS: self.webhook_endpoints,
                   Part.FAILED_EVENTS: self.failed_events}
        return answers[part] is not None

    def fail_unanswered(self, error: FetchError) -> None:
        """Record ``error`` for every part that holds neither an answer nor an error (a read cut short)."""
        if self.account is None and self.account_error is None:
            self.account_error = error
        if self.webhook_endpoints is None and self.webhook_endpoints_error is None:
            self.webhook_endpoints_error = error
        if self.failed_events is None and self.failed_events_error is None:
            self.failed_events_error = error

    def errors(self) -> list[FetchError]:
        return [e for e in (self.account_error, self.webhook_endpoints_error, self.failed_events_error) if e]
