"""Logging on standard error, with every line scrubbed of secrets (also the stripe SDK's)."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from auditor.logcontext import RecordContextFilter
from auditor.redact import scrub
from auditor.terminal import visible

# JSON's \uXXXX escapes, also backslash-doubled by a repr(): the SDK logs Stripe's raw body before decoding them
_U_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")


def decode_u_escapes(text: str) -> str:
    """Decode printable ``\\uXXXX`` escapes, so that ``sk\\u005flive…`` is a key the scrubber recognises.

    Control and surrogate code points stay escaped: decoding them would hand the
    terminal an escape sequence, or produce text that cannot be written.
    """
    def char(match: re.Match[str]) -> str:
        decoded = chr(int(match.group(1), 16))
        return decoded if decoded.isprintable() and decoded != "\\" else match.group(0)

    return _U_ESCAPE.sub(char, text)


class ScrubbingFormatter(logging.Formatter):
    """Formats as usual, then masks anything secret, including in tracebacks and JSON-escaped bodies."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(scrub(decode_u_escapes(super().format(record))), lines=True)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, company_id, environment; scrubbed of secrets."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(decode_u_escapes(record.getMessage())),  # masked before JSON escapes it again
            "company_id": getattr(record, "company_id", None),
            "environment": getattr(record, "environment", None),
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        # ASCII only: control characters and bidi overrides reach a terminal or log viewer as \u escapes
        return scrub(json.dumps(entry, ensure_ascii=True))


def setup_logging(verbosity: int, log_format: str = "text") -> None:
    """Log to standard error; the stripe SDK and urllib3 only at -vv (thousands of lines that name no tenant)."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.addFilter(RecordContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else ScrubbingFormatter(
        "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, (ScrubbingFormatter, JsonFormatter)):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("stripe", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    if "stripe" in sys.modules:  # else auditor.collect.stripe_api does it when it imports the SDK
        silence_sdk_console()


def silence_sdk_console() -> None:
    """``STRIPE_LOG=debug`` makes the SDK print raw bodies to stderr itself, past every formatter: only logging stays.

    The SDK also formats every answer's whole body for its debug log before asking whether anyone
    listens (decoded, then ``repr``-ed: up to ten times the size cap per answer, on every thread):
    its log calls now format only when the ``stripe`` logger is enabled for their level (``-vv``).
    """
    import stripe
    from stripe import _api_requestor, _util

    stripe.log = None
    _util.STRIPE_LOG = None
    _api_requestor.log_debug = _only_if_enabled(_util.log_debug, logging.DEBUG)  # type: ignore[attr-defined]
    _api_requestor.log_info = _only_if_enabled(_util.log_info, logging.INFO)  # type: ignore[attr-defined]


def _only_if_enabled(log: Callable[..., None], level: int) -> Callable[..., None]:
    def log_if_enabled(message: str, **params: object) -> None:
        if logging.getLogger("stripe").isEnabledFor(level):
            log(message, **params)
    return log_if_enabled
