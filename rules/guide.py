"""The facts of the setup guides (``shared/seeds``), in one place.

Where the two guides disagree the newer one stands; these values are the newer
guide's: the callbacks URL per environment, the key prefixes, the 15 events.
"""

from __future__ import annotations

from auditor.config import Environment

CALLBACK_HOSTS: dict[Environment, str] = {
    Environment.LIVE: "callbacks.plenigo.com",
    Environment.STAGE: "callbacks.plenigo-stage.com",
}
CALLBACK_PATH_PREFIX = "/callbacks/v1.0/stripe/"

# In the guide's own order (its table of Stripe API events).
REQUIRED_EVENTS: tuple[str, ...] = (
    "account.updated",
    "issuing_card.updated",
    "issuing_cardholder.updated",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.succeeded",
    "payment_method.automatically_updated",
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.dispute.funds_reinstated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.updated",
)

PUBLISHABLE_PREFIX: dict[Environment, str] = {Environment.STAGE: "pk_test_", Environment.LIVE: "pk_live_"}
SECRET_PREFIXES: dict[Environment, tuple[str, ...]] = {
    Environment.STAGE: ("sk_test_", "rk_test_"),
    Environment.LIVE: ("sk_live_", "rk_live_"),
}

DASHBOARD_MODE: dict[Environment, str] = {
    Environment.STAGE: "test mode (the slider at the top right is orange)",
    Environment.LIVE: "live mode (the slider at the top right is grey)",
}


def callback_url(company_id: str, env: Environment) -> str:
    """The exact webhook URL the guide tells the tenant to enter."""
    return f"https://{CALLBACK_HOSTS[env]}{CALLBACK_PATH_PREFIX}{company_id}"


def secret_key_step(env: Environment) -> str:
    """Where to get the secret key today: a test key can be revealed any time, a live key only once.

    Stripe's API keys docs: "You can only reveal a live mode secret or restricted API key one time. If you lose
    it, ... roll it or delete it and create a new one." So no live fix says "Reveal live key".
    """
    prefix = SECRET_PREFIXES[env][0]
    if env is Environment.STAGE:
        return f"Click Reveal test key next to the Secret key ({prefix}…) and copy it"
    return (f"Use the live Secret key ({prefix}…) stored when it was created: Stripe shows a live secret key only "
            "once. If nobody stored it, roll it (⋯ → Roll key; plan the expiry of the old key, other systems may "
            "use it) or create a new secret key, and copy it right away")
