"""Keeping secrets out of every output: masking for display, scrubbing as a safety net.

Masking is how a key is *shown* (``sk_live_…4f2a``). Scrubbing is the last line of
defence: every text the auditor writes (table, JSON, HTML, logs, email) passes
through :func:`scrub`, which replaces any registered secret value, and anything
shaped like a Stripe secret key or signing secret, by its mask.
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus

import markupsafe

from auditor.terminal import visible

if TYPE_CHECKING:  # only for the type: importing pydantic here would slow every start-up, `audit --help` too
    from pydantic import BaseModel

_PREFIX = re.compile(r"^(?:(?:sk|rk|pk)_(?:live|test)_|whsec_)")
# also upper-cased and with the underscores percent-encoded, as a URL or a log may echo a key
_SECRET_OPENING = r"(?:(?:sk|rk)(?:_|%5F)(?:live|test)(?:_|%5F)|whsec(?:_|%5F))"
# A tail stops where another key begins: glued to a secret-shaped string, a key lost its "sk" to that
# string's tail and was printed whole after it (sk_test_…_live_51…); now each is masked.
_SECRET_SHAPED = re.compile(rf"{_SECRET_OPENING}(?:(?!{_SECRET_OPENING})[A-Za-z0-9]){{8,}}", re.IGNORECASE)
MIN_SECRET_LENGTH = 4  # shorter values cannot be scrubbed without destroying every text: config.py refuses them
_WORD_BOUNDED_BELOW = 12  # short secrets are only matched as a whole word, so "test" spares "sk_test_…"

_lock = threading.Lock()
_irregular: dict[str, str] = {}  # a way the secret may be written (raw, JSON-, HTML-, repr-escaped) -> the secret
_folded: dict[str, str] = {}  # the same, keyed in lower case: the pattern ignores case (an upper-cased echo)
_pattern: re.Pattern[str] | None = None
_Model = TypeVar("_Model", bound="BaseModel")


def _new_lock_in_child() -> None:
    """A forked child gets a free lock: the thread that held it at the fork (the checklist's prefetch thread,
    scrubbing, while the tenant file loads in forked parts) does not exist in the child, which waited for ever."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


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
    if not value or len(value.strip()) < MIN_SECRET_LENGTH:
        return
    with _lock:
        for candidate in {value, value.strip()}:
            if _SECRET_SHAPED.fullmatch(candidate):
                continue
            for form in _written_forms(candidate):
                if form not in _irregular:
                    _irregular[form] = candidate
                    _folded.setdefault(form.lower(), candidate)
                    _pattern = None


def _written_forms(secret: str) -> set[str]:
    """The secret as outputs write it: raw, escaped for JSON, HTML, XML, CSV and Python's repr, and twice-escaped."""
    def once(text: str) -> set[str]:
        backslashed = text.encode("unicode_escape").decode("ascii")  # as repr() writes it inside a longer text
        return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1],
                backslashed, backslashed.replace("'", "\\'"), str(markupsafe.escape(text)),  # Jinja2's escaping
                html.escape(text), html.escape(text, quote=False),
                html.escape(text, quote=False).replace('"', "&quot;"),
                _as_xml_attribute(text),
                visible(text), visible(text, lines=True),  # as the terminal shows control characters (\x0d)
                text.replace('"', '""')}  # as a CSV cell quotes it

    percent = {quote(secret, safe=""), quote(secret), quote_plus(secret), quote(secret, safe="").replace("_", "%5F"),
               secret.replace("_", "%5F")}  # as a URL carries it (the pattern ignores case)
    return {twice for form in once(secret) for twice in once(form)} | percent


def _as_xml_attribute(text: str) -> str:
    """``text`` as ElementTree writes an attribute's value (junit.xml): CR, LF and tab as character references."""
    escaped = html.escape(text, quote=False).replace('"', "&quot;")
    return escaped.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _irregular:
            parts = []
            for form in sorted(_irregular, key=len, reverse=True):
                escaped = re.escape(form)
                bounded = len(form) < _WORD_BOUNDED_BELOW
                parts.append(rf"(?<![A-Za-z0-9_]){escaped}(?![A-Za-z0-9_])" if bounded else escaped)
            _pattern = re.compile("|".join(parts), re.IGNORECASE)
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
        text = pattern.sub(lambda m: _inert_mask(_secret_of(m.group(0))), text)
    return _mask_secret_shaped(text)


# Under IGNORECASE these match an ASCII letter of the pattern (i, s, k) without being one; U+0130 also
# lower-cases to two characters. A text holding one is scanned by the pattern itself.
_CASE_TWINS = ("\u0130", "\u0131", "\u017f", "\u212a")
_OPENINGS = ("sk_", "rk_", "whsec")  # how a secret-shaped string begins, lower-cased (and "%5f", two after sk/rk)


def _mask_secret_shaped(text: str) -> str:
    """``_SECRET_SHAPED.sub(mask)``, trying the pattern only where a secret could begin.

    The case-insensitive pattern cannot skip ahead by its first characters, so a
    fleet's 100 MB results.json took seconds to scan. Every match begins with
    ``sk``/``rk`` + ``_`` or ``%5F``, or ``whsec``, in any case: those places are
    found with ``str.find`` in the lower-cased text, and the pattern is tried at
    each, left to right, skipping places inside a match, as ``sub`` does.
    """
    low = text.lower()
    if len(low) != len(text) or (not text.isascii() and any(c in text for c in _CASE_TWINS)):
        return _SECRET_SHAPED.sub(lambda m: mask(m.group(0)), text)
    starts = sorted({s for opening in _OPENINGS for s in _occurrences(low, opening, 0)}
                    | {s for s in _occurrences(low, "%5f", -2) if s >= 0 and low[s:s + 2] in ("sk", "rk")}
                    | {s for s in _occurrences(low, "%5f", -5) if s >= 0 and low.startswith("whsec", s)})
    parts, done = [], 0
    for start in starts:
        if start < done:
            continue
        found = _SECRET_SHAPED.match(text, start)
        if found:
            parts += [text[done:start], mask(found.group(0))]
            done = found.end()
    return "".join(parts) + text[done:] if parts else text


def _occurrences(text: str, needle: str, shift: int) -> Iterator[int]:
    """Where ``needle`` occurs in ``text``, each place moved by ``shift``."""
    at = text.find(needle)
    while at >= 0:
        yield at + shift
        at = text.find(needle, at + 1)


def _secret_of(written: str) -> str:
    """The registered secret a matched text is a form of (the match may differ from it in case)."""
    return _irregular.get(written) or _folded.get(written.lower(), written)


def scrub_model(model: _Model) -> _Model:
    """A copy of a model with every string in it scrubbed (keys of mappings included), lone surrogates replaced.

    Evidence enters through this: Stripe's strings are masked before anything
    diffs, highlights, wraps or logs them, since those split a secret into pieces
    that the output scrubber can no longer recognise.
    """
    return type(model).model_validate(_scrub_tree(model.model_dump()))


def _scrub_tree(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(_whole_characters(value))
    if isinstance(value, dict):
        return {_scrub_tree(k): _scrub_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_tree(v) for v in value]
    return value


def _whole_characters(text: str) -> str:
    """Lone surrogates (JSON allows ``"\\ud800"``) as U+FFFD: no UTF-8 output could hold them, and one in a
    single tenant's Stripe strings ended the whole run."""
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
