"""Keeping secrets out of every output: masking for display, scrubbing as a safety net.

Masking is how a key is *shown* (``sk_live_…4f2a``). Scrubbing is the last line of
defence: every text the auditor writes (table, JSON, HTML, logs, email) passes
through :func:`scrub`, which replaces any registered secret value, and anything
shaped like a Stripe secret key or signing secret, by its mask.
"""

from __future__ import annotations

import re
import threading

_PREFIX = re.compile(r"^(?:(?:sk|rk|pk)_(?:live|test)_|whsec_)")
_SECRET_SHAPED = re.compile(r"(?:(?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9]{8,}")
_MIN_SECRET_LENGTH = 8

_lock = threading.Lock()
_irregular: set[str] = set()


def mask(value: str | None) -> str:
    """Show a key as its prefix and last four characters, never more.

    Short or unrecognised values show at most their last four characters when
    they are long enough that four characters reveal little.
    """
    if value is None:
        return "(none)"
    if value == "":
        return "(empty)"
    match = _PREFIX.match(value)
    prefix = match.group(0) if match else ""
    rest = value[len(prefix):]
    if len(rest) < 12:
        return f"{prefix}…" if prefix else "…"
    tail = rest[-4:]
    return f"{prefix}…{tail!s}" if tail.isprintable() and not tail.isspace() else f"{prefix}…{tail!r}"


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`scrub` removes it from any output.

    Secrets of Stripe's own shape are caught by one regular expression; only the
    irregular ones (a stray space, an unknown prefix) are searched for one by one,
    so scrubbing stays one pass over the text however large the fleet.
    """
    if not value or len(value.strip()) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        for candidate in {value, value.strip()}:
            if not _SECRET_SHAPED.fullmatch(candidate):
                _irregular.add(candidate)


def scrub(text: str) -> str:
    """Replace every known secret and every secret-shaped string by its mask."""
    with _lock:
        irregular = sorted(_irregular, key=len, reverse=True)
    for secret in irregular:
        if secret in text:
            text = text.replace(secret, mask(secret))
    return _SECRET_SHAPED.sub(lambda m: mask(m.group(0)), text)
