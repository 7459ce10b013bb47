"""An answer's header block read as ``http.client`` reads it, without the e-mail parser for plain blocks.

``http.client`` hands every header block to ``email.parser``, whose general
machinery (MIME, continuation lines, defects) was a fifth of the auditor's CPU
per record at fleet scale. A block of plain ``Name: value`` lines is built
here into the same :class:`http.client.HTTPMessage` (the same headers, payload
and defects: ``tests/collect/test_headers.py`` compares every attribute); any
other block (a continuation line, a stray CR, a line that is not a header, a
MIME container type) goes to ``http.client.parse_headers``'s own parser.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from typing import Any

# The characters email.feedparser accepts in a header name (its headerRE), then a value without CR or LF.
_PLAIN_LINE = re.compile(r"([\041-\071\073-\176]+):([^\r\n]*)\r?\n")
_CONTAINER = re.compile(r"\s*(?:multipart|message)\s*/", re.IGNORECASE)  # types the parser reads a body of


def parse_header_block(lines: list[bytes]) -> http.client.HTTPMessage:
    """The message ``http.client.parse_headers`` makes of these lines (as its ``_read_headers`` read them)."""
    text = b"".join(lines).decode("iso-8859-1")
    message = _plain_block(lines, text)
    if message is None:
        return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)
    return message


def _plain_block(lines: list[bytes], text: str) -> http.client.HTTPMessage | None:
    """The message of a block of plain header lines ending in a blank line; None for anything else."""
    if not lines or lines[-1] not in (b"\r\n", b"\n"):
        return None
    message = http.client.HTTPMessage()
    position, end = 0, len(text) - len(lines[-1])
    while position < end:
        line = _PLAIN_LINE.match(text, position)
        if line is None:
            return None
        name, value = line.group(1), line.group(2).lstrip(" \t")
        if name.lower() == "content-type" and _CONTAINER.match(value):
            return None
        message.set_raw(name, value)
        position = line.end()
    if position != end:
        return None
    message.set_payload("")
    return message


def read_header_block(fp: Any) -> http.client.HTTPMessage:
    """``http.client.parse_headers(fp)``, the same limits on lines and headers, plain blocks parsed here."""
    return parse_header_block(http.client._read_headers(fp))  # type: ignore[attr-defined]  # the stdlib's own reader
