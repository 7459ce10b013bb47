"""A fast, exact reader for the plain shape of a tenant file; anything else is tomllib's.

Why it exists: ``tomllib`` is pure Python and scans every basic string one
character at a time, so reading the TOML was two thirds of loading a fleet of
10,000 tenants (2.7 s of 4.2 s). Tenant files are nearly always written in one
plain shape: ``[[tenants]]``, ``[tenants.stage]`` and ``[tenants.live]``
headers, and ``key = "string"`` or ``key = { file = "path" }`` lines. This
module reads that shape with one regular expression a line.

Why it is safe: :func:`loads` returns exactly the dict ``tomllib.loads(text)``
returns (same keys, same order, same strings), or ``None`` for any text outside
its subset, for which the caller asks tomllib. It never raises and never
guesses: an escape TOML does not have, a multi-line string, a number, an array,
a dotted or quoted key, another header, a bare CR, a control character, a key
before the first header, a key defined twice, a table declared twice, all mean
``None``, so every error message, and every document outside the subset, reads
exactly as before. A differential test (tests/config/test_tenant_toml.py) holds
it to tomllib.

The subset, line by line (``\\r\\n`` is read as ``\\n``, as tomllib does; no
control character but tab anywhere):

- blank lines and comments;
- ``[[tenants]]``, ``[tenants.stage]`` and ``[tenants.live]`` (spaces and tabs
  where TOML allows them, then an optional comment);
- ``key = value``: a bare key, and a one-line basic string (TOML's escapes
  included: the sample file has a ``\\n``), a one-line literal string, or an
  inline table of exactly one such ``key = string`` pair; then an optional
  comment.
"""

from __future__ import annotations

import re
from typing import Any

# After CRLF is read as LF, a control character other than tab and LF is never valid TOML (strings and comments
# refuse them, and they are no whitespace): a text holding one is tomllib's, so the patterns need not exclude them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_KEY = r"[A-Za-z0-9_-]+"
_ESCAPE = r'\\(?:[btnfr"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})'  # TOML's; any other backslash: not plain
# A string: a basic one as group n, a literal one as group n + 1. '""' or "''" followed by a third quote opens
# a multi-line string in TOML; the line pattern fails there, as it must: only a comment may follow a value.
_STRING = rf"\"([^\"\\]*(?:{_ESCAPE}[^\"\\]*)*)\"|'([^']*)'"
# The leading blanks are possessive (*+): every branch after them starts with no blank, and the empty one is followed
# by [ \t]* anyway, so the language is the same; a plain * made a failing indented line quadratic (each split of
# its indentation between the leading and the trailing [ \t]* tried: 100,000 blanks then "a = 1", minutes).
_LINE = re.compile(  # (?:...|) rather than (?:...)?: the same language, matched faster
    rf"[ \t]*+(?:"
    rf"({_KEY})[ \t]*=[ \t]*(?:{_STRING}|\{{[ \t]*({_KEY})[ \t]*=[ \t]*(?:{_STRING})[ \t]*\}})"  # key = value
    rf"|(\[\[)[ \t]*tenants[ \t]*\]\]"  # a new tenant
    rf"|\[[ \t]*tenants[ \t]*\.[ \t]*(stage|live)[ \t]*\]"  # one of its records
    rf"|)[ \t]*(?:#.*|)"  # then an optional comment (no control characters are left), and the end of the line
)
# The groups of _LINE after the key (group 1), as Match.lastindex names the last one matched; None: a blank line
# or a comment.
_BASIC, _LITERAL, _INNER_KEY, _INNER_BASIC, _INNER_LITERAL, _NEW_TENANT, _RECORD = range(2, 9)
_UNESCAPE = re.compile(r'\\(?:([btnfr"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))')
_SHORT_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def loads(text: str) -> dict[str, Any] | None:
    """``tomllib.loads(text)`` for a plain tenant file; ``None``: not plain, let tomllib read it."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # as tomllib does, even inside strings
    if _CONTROL.search(text):  # a CR alone, a NUL, DEL, an escape character...: tomllib words the error
        return None
    tenants: list[dict[str, Any]] = []
    table: dict[str, Any] | None = None  # where key/value lines go: none before the first header
    fullmatch = _LINE.fullmatch
    for line in text.split("\n"):
        match = fullmatch(line)
        if match is None:
            return None
        kind = match.lastindex
        if kind is None:  # a blank line or a comment
            continue
        if kind == _NEW_TENANT:
            table = {}
            tenants.append(table)
        elif kind == _RECORD:
            table = _open_record(tenants, match[kind])
            if table is None:
                return None
        elif table is None or match[1] in table or not _put(table, match, kind):  # before any header; a key twice
            return None
    return {"tenants": tenants} if tenants else {}


def _open_record(tenants: list[dict[str, Any]], record: str) -> dict[str, Any] | None:
    """The table of ``[tenants.<record>]``; None with no tenant yet, or if the tenant has ``record`` already
    (as a table or as a value: TOML declares a table once)."""
    if not tenants or record in tenants[-1]:
        return None
    table: dict[str, Any] = {}
    tenants[-1][record] = table
    return table


def _put(table: dict[str, Any], match: re.Match[str], kind: int) -> bool:
    """Set a key/value line's value in ``table``; False for an escape TOML refuses."""
    value = match[kind]
    if "\\" in value and kind in (_BASIC, _INNER_BASIC):  # a literal string has no escapes
        value = _unescape(value)
        if value is None:
            return False
    table[match[1]] = value if kind < _INNER_KEY else {match[_INNER_KEY]: value}
    return True


def _unescape(body: str) -> str | None:
    """A basic string's value; None for a \\u or \\U escape that is no Unicode scalar value (TOML refuses it)."""
    try:
        return _UNESCAPE.sub(_escaped, body)
    except ValueError:
        return None


def _escaped(escape: re.Match[str]) -> str:
    short, four, eight = escape.groups()
    if short is not None:
        return _SHORT_ESCAPES[short]
    code = int(four or eight, 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:  # a surrogate, or beyond Unicode
        raise ValueError(code)
    return chr(code)
