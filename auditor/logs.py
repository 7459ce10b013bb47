"""Logging on standard error, with every line scrubbed of secrets (also the stripe SDK's)."""

from __future__ import annotations

import logging
import re
import sys

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


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, ScrubbingFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("stripe").setLevel(level)
    if "stripe" in sys.modules:  # else auditor.collect.stripe_api does it when it imports the SDK
        silence_sdk_console()


def silence_sdk_console() -> None:
    """``STRIPE_LOG=debug`` makes the SDK print raw bodies to stderr itself, past every formatter: only logging stays."""
    import stripe
    from stripe import _util

    stripe.log = None
    _util.STRIPE_LOG = None
