"""Untrusted text made visible, never interpreted, on a terminal.

Tenant names, Stripe's strings and results files may hold escape sequences
(``ESC ]0;title BEL`` sets the window title, ``ESC [2K`` erases a row) or
bidirectional overrides that make a row read differently from what it holds.
Every such character is shown as an escape (``\\x1b``, ``<U+202E>``) instead.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TextIO

_KEPT_IN_LINES = "\n"


def _shown(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


def _unsafe(char: str, lines: bool) -> bool:
    if lines and char in _KEPT_IN_LINES:
        return False
    # Cc: C0, C1, DEL; Cf: bidi overrides, isolates and marks (U+202A-202E, U+2066-2069, U+200E/F, U+061C),
    # zero-width characters; Zl/Zp: line and paragraph separators; Cs/Co/Cn: nothing a terminal should guess at
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with every control, format and bidi character shown as an escape.

    ``lines=True`` keeps line breaks, for multi-line text (findings, messages);
    a table cell keeps none, so that a row stays one row. Tabs are shown too:
    they would move the next column.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(_shown(c) if _unsafe(c, lines) else c for c in text)


def use_color(no_color: bool = False, stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, never with ``--no-color`` or ``NO_COLOR`` set (https://no-color.org)."""
    stream = stream or sys.stdout
    return not no_color and not os.environ.get("NO_COLOR") and stream.isatty()
