"""Reading a saved results.json a record at a time: a fleet's run is never held whole in memory.

``audit report``, ``audit diff`` and ``audit run --history`` (the previous run,
for "what changed") read saved runs. A 10,000-tenant results.json is 100-250 MB
of text; read whole, then parsed and validated, it took 1.8 GB. A large file is
instead read in chunks: the top-level fields are parsed as they come, and each
element of ``records`` is decoded, validated as a :class:`RecordResult` and
stored in a :class:`~auditor.spool.RecordSpool` (on disk) before the next one is
read. The renderers already read a spooled run record by record.

Only a file the stream reads cleanly is taken that way. Anything else (invalid
JSON, a record that does not validate, a duplicate key, a lone surrogate, a
wrong schema) is read again whole by :meth:`RunResult.from_json`, which raises
exactly the error it always raised: a broken file gets the same message, and
costs what it always cost, whatever its size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Any

from auditor.results import SCHEMA, RecordResult, RunResult
from auditor.spool import RecordSpool

STREAM_ABOVE = 4 << 20  # bytes: smaller files are read whole (a few hundred records), as they always were
CHUNK = 1 << 20  # characters read at a time

_DECODER = json.JSONDecoder()
_BLANKS = re.compile(r"[ \t\n\r]*")


class _NotStreamed(Exception):
    """The file is not one the stream reads cleanly: it is read whole instead."""


def read_run(path: Path) -> RunResult:
    """The run saved at ``path``; raises as ``RunResult.from_json(path.read_text("utf-8"))`` does."""
    if path.stat().st_size > STREAM_ABOVE:
        try:
            return streamed_run(path)
        except (_NotStreamed, ValueError, RecursionError):  # ValueError: invalid UTF-8, a record that fails
            pass
    return RunResult.from_json(path.read_text(encoding="utf-8"))


def streamed_run(path: Path) -> RunResult:
    """The run at ``path``, its records in a spool; :class:`_NotStreamed` (or a ValueError) for anything else."""
    spool: RecordSpool | None = None
    fields: dict[str, Any] = {}
    with open(path, encoding="utf-8") as file:
        reader = _Reader(file)
        try:
            reader.take("{")
            while True:
                key = reader.value()
                if not isinstance(key, str) or key in fields:  # json.loads keeps the last of duplicates: read whole
                    raise _NotStreamed
                reader.take(":")
                if key == "records":
                    spool = _records(reader)
                    fields[key] = []
                else:
                    fields[key] = reader.value()
                if reader.next_char() == ",":
                    reader.take(",")
                    continue
                reader.take("}")
                break
            if reader.next_char() != "":  # anything after the object
                raise _NotStreamed
        except BaseException:
            if spool is not None:
                spool.close()
            raise
    return _run(fields, spool)


def _run(fields: dict[str, Any], spool: RecordSpool | None) -> RunResult:
    try:
        if fields.get("schema") != SCHEMA:
            raise _NotStreamed
        _text_only(fields)
        run = RunResult.model_validate(fields)
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    if spool is not None:
        run.records = spool  # type: ignore[assignment]  # a Sequence of RecordResult, read on access
    return run


def _records(reader: _Reader) -> RecordSpool:
    """The ``records`` array, each element validated and stored in a spool as it is read."""
    spool = RecordSpool(0)
    try:
        reader.take("[")
        if reader.next_char() == "]":
            reader.take("]")
            return spool
        while True:
            data = reader.value()
            _text_only(data)
            spool.add(RecordResult.model_validate(data))
            if reader.next_char() == ",":
                reader.take(",")
                continue
            reader.take("]")
            return spool
    except BaseException:
        spool.close()
        raise


def _text_only(data: Any) -> None:
    """A lone surrogate escape (\\ud800) parses but is no text: ``RunResult.from_json`` refuses it, so read whole."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _NotStreamed from None


class _Reader:
    """JSON values read one at a time from a text file, through a buffer of about :data:`CHUNK` characters."""

    def __init__(self, file: IO[str]):
        self._file = file
        self._text = ""
        self._at = 0
        self._ended = False

    def _more(self, at_least: int = CHUNK) -> None:
        """Read on (at least ``at_least`` characters, unless the file ends); what was consumed is dropped."""
        if self._at:
            self._text, self._at = self._text[self._at:], 0
        data = self._file.read(max(at_least, CHUNK))
        if not data:
            self._ended = True
        self._text += data

    def next_char(self) -> str:
        """The next character that is not a blank ("" at the end of the file), not consumed."""
        while True:
            self._at = _BLANKS.match(self._text, self._at).end()  # type: ignore[union-attr]  # matches always
            if self._at < len(self._text) or self._ended:
                return self._text[self._at:self._at + 1]
            self._more()

    def take(self, char: str) -> None:
        if self.next_char() != char:
            raise _NotStreamed
        self._at += 1

    def value(self) -> Any:
        """The next JSON value. A value cut by the buffer's end is read again with more text; one that ends
        exactly there (a number) too, as more digits may follow."""
        self.next_char()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if self._ended:
                    raise _NotStreamed from None
                self._more(len(self._text))  # double the buffer: a large value is parsed a few times at most
                continue
            if end == len(self._text) and not self._ended:
                self._more()
                continue
            self._at = end
            return value
