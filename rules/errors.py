"""An ``error`` check: why Stripe could not be asked, and what to do about it.

An operator acts on the fix without reading the reason twice, so each kind of
failure gets its own step: a rejected key is replaced, a restricted key gets
the permission Stripe named (or the standard key is used), an unreachable
Stripe is a matter of this machine's network, proxy or ``--stripe-api-base``.
"""

from __future__ import annotations

import re

from auditor.evidence import ErrorKind, FetchError
from auditor.rules.context import RecordContext
from auditor.rules.guide import secret_key_step

_PERMISSION = re.compile(r"'(r[a-z]{1,4}_[a-z_]+)' permission")
_NETWORK = ("Stripe could not be reached from the machine running the audit ({reason}). Check its network "
            "connection, a proxy (HTTPS_PROXY) or firewall between it and {api_base}, and that --stripe-api-base "
            "(or STRIPE_API_BASE) is unset or right; then run the audit again.")

# Why a read failed, in words a person can act on (the check's message; its fix is error_fix).
_REASONS = {
    ErrorKind.AUTHENTICATION: "Stripe rejected the secret key (HTTP 401: invalid, expired or rolled)",
    ErrorKind.PERMISSION: "the key may not read this (HTTP 403: a restricted key without that permission)",
    ErrorKind.NOT_FOUND: "Stripe answered 404 Not Found",
    ErrorKind.RATE_LIMITED: "Stripe kept answering 429 Too Many Requests, also after retries",
    ErrorKind.SERVER: "Stripe answered with a server error, also after retries",
    ErrorKind.TIMEOUT: "Stripe did not answer in time",
    ErrorKind.CONNECTION: "the connection to Stripe failed",
    ErrorKind.INVALID_RESPONSE: "Stripe's answer could not be read",
    ErrorKind.REFUSED: "the read-only guard refused a request that was not GET",
    ErrorKind.OTHER: "asking Stripe failed",
}


def describe(error: FetchError) -> str:
    """One line a person can act on: the reason, then Stripe's own words."""
    reason = _REASONS.get(error.kind, "asking Stripe failed")
    where = f" for {error.path}" if error.path else ""
    detail = f": {error.message}" if error.message and error.message not in reason else ""
    return f"{reason}{where}{detail}"


def _restricted(error: FetchError, ctx: RecordContext) -> bool:
    """Only a restricted (rk_) key lacks permissions; a 403 to a standard key has another cause.

    Stripe's 403 names the key it was given ("The provided key 'rk_live_…'"), which counts too.
    """
    key = ctx.record.secret_key.reveal() if ctx.record.secret_key else ""
    return key.strip().startswith("rk_") or "'rk_" in (error.message or "")


def error_fix(error: FetchError, ctx: RecordContext) -> str:
    """One step that addresses this failure, with the record's values."""
    env, cid = ctx.environment, ctx.company_id
    where = f"the {env.value} record of {cid}"
    api_base = (ctx.evidence.api_base if ctx.evidence else None) or "https://api.stripe.com"
    if error.kind is ErrorKind.AUTHENTICATION:
        return (f"Stripe rejected the secret key of {where} (mistyped, rolled or deleted). In the Stripe Dashboard, "
                f"in {env.stripe_mode} mode, open Developers → API keys. {secret_key_step(env)}, and replace the "
                f"key of {where} with it.")
    if error.kind is ErrorKind.PERMISSION and not _restricted(error, ctx):
        return (f"Stripe refused {error.path or 'the request'} to the standard secret key of {where} (HTTP 403): "
                f"a standard key may read everything, so the account itself is restricted, closed or not the "
                f"key's. Check the account in the Stripe Dashboard in {env.stripe_mode} mode (ACC003 names it); if "
                "it looks fine there, ask Stripe support with the time of the audit.")
    if error.kind is ErrorKind.PERMISSION:
        found = _PERMISSION.search(error.message or "")
        permission = f"the permission {found.group(1)}" if found else "the read permission Stripe names for " \
            f"{error.path or 'this request'}"
        return (f"The restricted key of {where} may not read {error.path or 'this'}: in the Stripe Dashboard, in "
                f"{env.stripe_mode} mode, open Developers → API keys, edit the restricted key and grant "
                f"{permission}, or use the standard secret key instead (KEY008).")
    if error.kind in (ErrorKind.CONNECTION, ErrorKind.TIMEOUT):
        return _NETWORK.format(reason=error.message or error.kind.value, api_base=api_base)
    if error.kind in (ErrorKind.RATE_LIMITED, ErrorKind.SERVER):
        return ("Stripe was busy or failing, also after retries: run the audit again later (status.stripe.com "
                "shows incidents); raise --retries or lower --workers if it repeats.")
    if error.kind is ErrorKind.INVALID_RESPONSE:
        return (f"The answer from {api_base} was not Stripe's: check that --stripe-api-base (or STRIPE_API_BASE) "
                "points at Stripe's API and that no proxy rewrites the answers; then run the audit again.")
    if error.kind is ErrorKind.REFUSED:
        return "The auditor refused to send a request that was not a read; please report this as a bug."
    return "Run the audit again; if the error repeats, run it with -v and report the logged reason."
