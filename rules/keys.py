"""Key rules (KEY001–KEY008): the publishable and secret keys of a record."""

from __future__ import annotations

from auditor.evidence import ErrorKind
from auditor.redact import mask
from auditor.results import CheckStatus, Severity
from auditor.rules.base import Outcome, Source, errored, failed, passed, skipped
from auditor.rules.context import RecordContext, StripeContext
from auditor.rules.errors import describe
from auditor.rules.guide import PUBLISHABLE_PREFIX, SECRET_PREFIXES
from auditor.rules.registry import rule
from auditor.rules.text import stray_characters

_API_KEYS = ("In the Stripe Dashboard, in {mode}, click Developers, then the API keys tab. ")


def _env_of(key: str) -> str | None:
    for marker, env in (("_test_", "stage (test mode)"), ("_live_", "live (live mode)")):
        if key[2:].startswith(marker):
            return env
    return None


@rule(
    id="KEY001", slug="publishable-key-format", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The publishable key is present and well-formed",
    checks="publishable_key is set, starts with pk_, and has no whitespace or invisible characters.",
    why="plenigo's checkout loads Stripe.js with this key; a missing or mangled key breaks every payment form.",
    remediation=_API_KEYS + "Click the Publishable key ({pk_prefix}…) to copy it and enter it as publishable_key of "
                "the {environment} record of {company_id}, exactly as copied{problem}.",
    fills=("problem",),
)
def publishable_key_format(ctx: RecordContext) -> Outcome:
    return _key_format(ctx.record.publishable_key, "publishable key", ("pk_",))


@rule(
    id="KEY002", slug="publishable-key-environment", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The publishable key is of the record's environment",
    checks="pk_test_ on the stage record, pk_live_ on the live record.",
    why="A test key on live takes no real payments; a live key on stage takes real money in tests.",
    remediation=_API_KEYS + "Copy the Publishable key ({pk_prefix}…) and enter it "
                "as publishable_key of the {environment} record of {company_id}.",
)
def publishable_key_environment(ctx: RecordContext) -> Outcome:
    key = ctx.record.publishable_key
    if not key or not key.startswith("pk_"):
        return skipped("no usable publishable key (KEY001)")
    return _key_environment(key.strip(), (PUBLISHABLE_PREFIX[ctx.environment],), ctx.environment.value,
                            "publishable key")


@rule(
    id="KEY003", slug="secret-key-format", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The secret key is present and well-formed",
    checks="secret_key is set, starts with sk_ or rk_, and has no whitespace or invisible characters.",
    why="plenigo calls Stripe's API with this key; without it nothing works, and a stray newline makes Stripe "
        "reject it.",
    remediation=_API_KEYS + "{get_secret_key}, and store it where the {environment} record of {company_id} reads "
                "it, exactly as copied{problem}.",
    fills=("problem",),
)
def secret_key_format(ctx: RecordContext) -> Outcome:
    return _key_format(_secret_key(ctx), "secret key", ("sk_", "rk_"))


@rule(
    id="KEY004", slug="secret-key-environment", severity=Severity.CRITICAL, source=Source.RECORD,
    title="The secret key is of the record's environment",
    checks="sk_test_/rk_test_ on the stage record, sk_live_/rk_live_ on the live record.",
    why="A test key on live means plenigo never sees real payments; a live key on stage moves real money in tests.",
    remediation=_API_KEYS + "{get_secret_key} into the {environment} record of {company_id} (a secret key "
                "starts with {sk_prefix}; Stripe answers a key of the other mode with that mode's objects, so the "
                "webhook and account checks are skipped until this is fixed).",
)
def secret_key_environment(ctx: RecordContext) -> Outcome:
    key = _secret_key(ctx)
    if not key.startswith(("sk_", "rk_")):
        return skipped("no usable secret key (KEY003)")
    return _key_environment(key.strip(), SECRET_PREFIXES[ctx.environment], ctx.environment.value, "secret key")


@rule(
    id="KEY005", slug="secret-key-accepted", severity=Severity.CRITICAL, source=Source.STRIPE,
    title="Stripe accepts the secret key",
    checks="Stripe does not reject the secret key (not invalid, expired or rolled).",
    why="A rejected key stops every payment and refund plenigo makes for this tenant.",
    remediation=_API_KEYS + "The key in the record was rejected by Stripe: it was mistyped, rolled or deleted. "
                "{get_secret_key}, and replace the secret key of the {environment} record of {company_id} with it.",
    handles_errors=True,
)
def secret_key_accepted(ctx: StripeContext) -> Outcome:
    evidence = ctx.evidence
    errors = evidence.errors()
    rejected = next((e for e in errors if e.kind is ErrorKind.AUTHENTICATION), None)
    hint = evidence.key_hint or "the key"
    if rejected:
        return failed(f"Stripe rejected {hint} (HTTP 401): {rejected.message}", http_status=401)
    if evidence.account is not None or evidence.webhook_endpoints is not None or evidence.failed_events is not None:
        return passed(f"Stripe accepted {hint}")
    return errored(describe(errors[0]) if errors else "Stripe gave no answer")


@rule(
    id="KEY006", slug="keys-same-account", severity=Severity.HIGH, source=Source.RECORD,
    title="Publishable key, secret key and account ID name one account",
    checks="Keys of the current format carry their account (prefix, 5, the account ID without acct_); the "
           "publishable key, the secret key and the account ID must name the same one. Skipped for older keys.",
    why="Keys copied from two different Stripe accounts make checkout and server calls disagree: payments "
        "created with one key are invisible to the other.",
    remediation="The values name different Stripe accounts ({accounts}). Open the Dashboard of the merchant's "
                "account, in {mode}, and copy the account ID (gear → Profile → bottom of the page → Accounts) and "
                "both keys (Developers → API keys) from that one account into the {environment} record of "
                "{company_id}.",
    fills=("accounts",),
)
def keys_same_account(ctx: RecordContext) -> Outcome:
    named = {
        "account ID": (ctx.record.account_id or "").strip() or None,
        "publishable key": embedded_account(ctx.record.publishable_key),
        "secret key": embedded_account(_secret_key(ctx)),
    }
    known = {source: acct for source, acct in named.items() if acct}
    if "publishable key" not in known and "secret key" not in known:
        return skipped("no key of the current format that names its account")
    if len(known) < 2:
        return skipped("only one of account ID and keys names an account")
    if len(set(known.values())) > 1:
        accounts = ", ".join(f"{source}: {acct}" for source, acct in known.items())
        return failed(f"the values name different Stripe accounts: {accounts}", fill={"accounts": accounts},
                      accounts=known)
    return passed(f"{' and '.join(known)} all name {next(iter(known.values()))}")


def embedded_account(key: str | None) -> str | None:
    """The account a current-format key carries (``pk_live_51Abc…`` → ``acct_1Abc…``), else None.

    Stripe does not document this, so it is a cross-check only.
    """
    if not key:
        return None
    key = key.strip()
    for prefix in ("pk_test_", "pk_live_", "sk_test_", "sk_live_", "rk_test_", "rk_live_"):
        if key.startswith(prefix):
            rest = key[len(prefix):]
            if len(rest) > 17 and rest[0] == "5" and rest[1] == "1" and rest[1:17].isalnum():
                return "acct_" + rest[1:17]
    return None


@rule(
    id="KEY007", slug="secrets-not-inline", severity=Severity.MEDIUM, source=Source.RECORD,
    title="Secrets come from the environment or a file",
    checks="secret_key and signing_secret are { env = \"NAME\" } or { file = \"path\" }, not literal strings in "
           "the tenant file.",
    why="A tenant file is copied, committed and mailed around; a secret written into it leaks with it.",
    remediation="Move {fields} of the {environment} record of {company_id} out of the tenant file: store the value "
                "in an environment variable or a file readable only by the auditor, and write "
                "secret_key = {{ env = \"NAME\" }} or {{ file = \"/run/secrets/name\" }} instead.",
    fills=("fields",),
)
def secrets_not_inline(ctx: RecordContext) -> Outcome:
    inline = [name for name, secret in (("secret_key", ctx.record.secret_key),
                                        ("signing_secret", ctx.record.signing_secret))
              if secret is not None and secret.origin == "inline"]
    if inline:
        return failed(f"{' and '.join(inline)} written into the tenant file", fill={"fields": " and ".join(inline)},
                      fields=inline)
    return passed("no secret is written into the tenant file")


@rule(
    id="KEY008", slug="secret-key-unrestricted", severity=Severity.MEDIUM, source=Source.RECORD,
    title="The secret key is a standard key",
    checks="secret_key is a standard sk_ key, not an rk_ restricted key.",
    why="A restricted key may lack permissions that plenigo's payment flows need; calls then fail in production.",
    remediation=_API_KEYS + "Use the standard Secret key ({sk_prefix}…) for the {environment} record of "
                "{company_id} instead of the restricted key {key}: {get_secret_key}.",
    fills=("key",),
)
def secret_key_unrestricted(ctx: RecordContext) -> Outcome:
    key = _secret_key(ctx)
    if not key.startswith(("sk_", "rk_")):
        return skipped("no usable secret key (KEY003)")
    if key.startswith("rk_"):
        return failed(f"{mask(key)} is a restricted key", fill={"key": mask(key)})
    return passed(f"{mask(key)} is a standard secret key")


def wrong_mode_key(ctx: RecordContext) -> str | None:
    """Why Stripe's answer is of the wrong mode (KEY004 fails), else None.

    Stripe answers a key with that key's mode's objects: with a test key on the
    live record it lists the test-mode endpoints, so judging them (and fixing
    "the live endpoint" after them) would break a working setup.
    """
    if secret_key_environment(ctx).status is not CheckStatus.FAIL:
        return None
    return (f"skipped because the secret key is not a {ctx.environment.value} key (KEY004): Stripe answered "
            f"with the other mode's objects, not this record's; fix KEY004 first, then audit again")


def _secret_key(ctx: RecordContext) -> str:
    """The record's secret key as entered ("" when there is none): rules judge it, outputs only ever mask it."""
    secret = ctx.record.secret_key
    return secret.reveal() if secret else ""


def _key_format(key: str | None, what: str, prefixes: tuple[str, ...]) -> Outcome:
    if not key:
        return failed(f"the record has no {what}", fill={"problem": ""})
    stray = stray_characters(key)
    if stray:
        return failed(f"the {what} {mask(key)} contains {stray}",
                      fill={"problem": f" (the value in the record contains {stray})"}, problem=stray)
    if not key.startswith(prefixes):
        shown = key[:3] + "…" if len(key) > 3 else key
        return failed(f"the {what} starts with {shown!r}, not {' or '.join(prefixes)}",
                      fill={"problem": f" (it must start with {' or '.join(prefixes)})"})
    return passed(f"{mask(key)} is a well-formed {what}")


def _key_environment(key: str, expected: tuple[str, ...], environment: str, what: str) -> Outcome:
    if key.startswith(expected):
        return passed(f"{mask(key)} is a {environment} {what}")
    actual = _env_of(key)
    if actual:
        return failed(f"a {actual.split()[0]} {what} ({mask(key)}) on the {environment} record",
                      expected_prefix=" or ".join(expected), found=mask(key))
    return failed(f"the {what} {mask(key)} is neither a test nor a live key", expected_prefix=" or ".join(expected))
