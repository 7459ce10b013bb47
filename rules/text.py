"""Spotting what copy-and-paste leaves in a value: whitespace and invisible characters.

Values are audited as entered, so a key with a trailing newline or a
zero-width space must be reported precisely: which character, and where.
"""

from __future__ import annotations

import unicodedata

_NAMED = {
    " ": "a space",
    "\t": "a tab",
    "\n": "a newline",
    "\r": "a carriage return",
    "\u00a0": "a no-break space",
    "\u200b": "a zero-width space",
    "\u200c": "a zero-width non-joiner",
    "\u200d": "a zero-width joiner",
    "\u2060": "a word joiner",
    "\ufeff": "a byte-order mark",
}


def _is_suspicious(char: str) -> bool:
    if char in _NAMED or char.isspace():
        return True
    if not char.isascii():
        return True  # keys, IDs and secrets are plain ASCII; anything else is a look-alike or invisible
    return not char.isprintable()


def _name(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    return f"{unicodedata.name(char, 'an unnamed character').lower()} (U+{ord(char):04X})"


def stray_characters(value: str) -> str | None:
    """Describe the whitespace or invisible characters in ``value``, or None if it is clean.

    >>> stray_characters("pk_live_abc\\n")
    'a trailing newline'
    """
    if value.isascii() and value.isprintable() and " " not in value:  # the usual value: no character to look at
        return None
    found = [(i, c) for i, c in enumerate(value) if _is_suspicious(c)]
    if not found:
        return None
    parts = []
    for index, char in found[:3]:
        if index == len(value) - 1 and len(value) > 1:
            where = "trailing"
        elif index == 0:
            where = "leading"
        else:
            where = None
        name = _name(char)
        if where:
            parts.append(name.replace("a ", f"a {where} ", 1) if name.startswith("a ") else f"{where} {name}")
        else:
            parts.append(f"{name} at position {index + 1}")
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return ", ".join(parts) + more
