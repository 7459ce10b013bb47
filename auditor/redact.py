"""Keeping secrets out of every output: masking for display, scrubbing as a safety net.

Masking is how a key is *shown* (``sk_live_…4f2a``). Scrubbing is the last line of
defence: every text the auditor writes (table, JSON, HTML, logs, email) passes
through :func:`scrub`, which replaces any registered secret value, and anything
shaped like a Stripe secret key or signing secret, by its mask.
"""

from __future__ import annotations

import html
import json
import re
import threading

import markupsafe

_PREFIX = re.compile(r"^(?:(?:sk|rk|pk)_(?:live|test)_|whsec_)")
_SECRET_SHAPED = re.compile(r"(?:(?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9]{8,}")
_MIN_SECRET_LENGTH = 4  # shorter values are not secrets worth the name, and would match ordinary words
_WORD_BOUNDED_BELOW = 12  # short secrets are only matched as a whole word, so "test" spares "sk_test_…"

_lock = threading.Lock()
_irregular: dict[str, str] = {}  # a way the secret may be written (raw, JSON-, HTML-, repr-escaped) -> the secret
_pattern: re.Pattern[str] | None = None


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
    irregular ones (a stray space, an unknown prefix, a quote or an ampersand) are
    searched for, in every form an output may escape them to, in one pass.
    """
    global _pattern
    if not value or len(value.strip()) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        for candidate in {value, value.strip()}:
            if _SECRET_SHAPED.fullmatch(candidate):
                continue
            for form in _written_forms(candidate):
                if form not in _irregular:
                    _irregular[form] = candidate
                    _pattern = None


def _written_forms(secret: str) -> set[str]:
    """The secret as outputs may write it: raw, escaped for JSON, HTML, XML and Python's repr, and twice-escaped."""
    def once(text: str) -> set[str]:
        backslashed = text.encode("unicode_escape").decode("ascii")  # as repr() writes it inside a longer text
        return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1],
                backslashed, backslashed.replace("'", "\\'"), str(markupsafe.escape(text)),  # Jinja2's escaping
                html.escape(text), html.escape(text, quote=False), html.escape(text, quote=False).replace('"', "&quot;")}

    return {twice for form in once(secret) for twice in once(form)}


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _irregular:
            parts = []
            for form in sorted(_irregular, key=len, reverse=True):
                escaped = re.escape(form)
                bounded = len(form) < _WORD_BOUNDED_BELOW
                parts.append(rf"(?<![A-Za-z0-9_]){escaped}(?![A-Za-z0-9_])" if bounded else escaped)
            _pattern = re.compile("|".join(parts))
        return _pattern


def _inert_mask(secret: str) -> str:
    """The mask, without a tail that could mean something in the HTML, JSON or XML it is put into."""
    shown = mask(secret)
    if any(ch in shown for ch in "<>&\"'\\"):
        match = _PREFIX.match(secret)
        return f"{match.group(0) if match else ''}…"
    return shown


def scrub(text: str) -> str:
    """Replace every known secret (in any escaped form) and every secret-shaped string by its mask."""
    pattern = _compiled()
    if pattern is not None:
        text = pattern.sub(lambda m: _inert_mask(_irregular.get(m.group(0), m.group(0))), text)
    return _SECRET_SHAPED.sub(lambda m: mask(m.group(0)), text)
