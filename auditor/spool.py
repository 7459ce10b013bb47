"""A fleet's record results on disk, read back one at a time: the parent's memory stays flat in the fleet size.

Results arrive from the workers in any order, already encoded as JSON; each is
appended to an unnamed temporary file (gone when closed or the process ends,
created 0600) and found again by its offset. :class:`RecordSpool` is a
``Sequence[RecordResult]`` in the plan's order, so every renderer iterates it
as it would a list, holding one decoded record at a time. A record changed
after decoding (a waiver) is stored again by assigning it to its index.

Beside each record it keeps its :class:`~auditor.results.RecordFacts` (status,
worst failure) and whether its text is the record's ``model_dump_json(indent=2)``:
the summary, the exit code and the table's choice then need no decoding, and
results.json copies the text as stored. Decoding a fleet from disk took about
half a millisecond a record, once for each of those, after the audit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, MutableSequence, Sequence
from typing import IO, Any, overload

from auditor.results import RecordFacts, RecordResult


def records_of(records: Sequence[RecordResult], company_id: str) -> list[RecordResult]:
    """The records of one tenant, from a list or (without reading the others) from a spool."""
    if isinstance(records, RecordSpool):
        return records.of_company(company_id)
    return [r for r in records if r.company_id == company_id]


class RecordSpool(MutableSequence[RecordResult]):
    """``size`` record results, stored as JSON lines in a temporary file, decoded on access."""

    def __init__(self, size: int, companies: list[str] | None = None, directory: str | None = None):
        # mkstemp: 0600, unlinked at once; closed by close() or with the process
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115
        self._where: list[tuple[int, int] | None] = [None] * size  # index -> (offset, length)
        self._companies: list[str | None] = list(companies) if companies is not None else [None] * size
        self._facts: list[RecordFacts | None] = [None] * size  # None: read off the record when asked

    def put(self, index: int, text: str, facts: RecordFacts | None = None) -> None:
        """Store the JSON of record ``index`` (a later put for the same index replaces it).

        ``facts`` come with a text that is exactly the record's ``model_dump_json(indent=2)``
        (as :func:`dumped` makes it); without them the text may be any JSON of a record.
        """
        data = text.encode("utf-8")
        self._file.seek(0, 2)
        self._where[index] = (self._file.tell(), len(data))
        self._file.write(data)
        self._facts[index] = facts

    def add(self, record: RecordResult) -> None:
        """Store ``record`` in a new place at the end (a saved run read record by record: auditor.results_file)."""
        self._where.append(None)
        self._companies.append(record.company_id)
        self._facts.append(None)
        self.put(len(self._where) - 1, *dumped(record))

    def complete(self) -> RecordSpool:
        """Drop the places that never got a record (a run cut short), keeping the order of the rest."""
        kept = [n for n, w in enumerate(self._where) if w is not None]
        self._where, self._companies = [self._where[n] for n in kept], [self._companies[n] for n in kept]
        self._facts = [self._facts[n] for n in kept]
        return self

    def facts(self) -> list[RecordFacts]:
        """Every record's facts, in order; decoded only for a record stored without them."""
        return [facts if facts is not None else RecordFacts.of(self[n]) for n, facts in enumerate(self._facts)]

    def texts(self) -> Iterator[str]:
        """Every record's ``model_dump_json(indent=2)``: as stored, or dumped anew for a text stored otherwise."""
        for n, facts in enumerate(self._facts):
            yield self._text(n) if facts is not None else self[n].model_dump_json(indent=2)

    def _text(self, index: int) -> str:
        where = self._where[index]
        if where is None:
            raise IndexError(f"record {index} has not been stored")
        self._file.seek(where[0])
        return self._file.read(where[1]).decode("utf-8")

    def of_company(self, company_id: str) -> list[RecordResult]:
        """One tenant's records, decoding only those (a per-tenant email must not read the fleet per tenant)."""
        return [record for n, cid in enumerate(self._companies)
                if cid in (company_id, None) and (record := self[n]).company_id == company_id]

    def __len__(self) -> int:
        return len(self._where)

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordResult]: ...

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return RecordResult.model_validate_json(self._text(index))

    def __setitem__(self, index: Any, record: Any) -> None:
        if isinstance(index, slice):
            raise TypeError("a spool stores one record at a time")
        self.put(range(len(self))[index], *dumped(record))

    def __delitem__(self, index: Any) -> None:
        raise TypeError("records are not removed from a run")

    def insert(self, index: int, record: RecordResult) -> None:
        raise TypeError("a spool has a place for each record of the plan; nothing is inserted")

    def __iter__(self) -> Iterator[RecordResult]:
        for index in range(len(self)):
            yield self[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (list, RecordSpool)) and len(self) == len(other) and all(
            a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        return f"RecordSpool({len(self)} records)"

    def close(self) -> None:
        self._file.close()


def dumped(record: RecordResult) -> tuple[str, RecordFacts]:
    """A record as the spool keeps it: its ``model_dump_json(indent=2)`` and its facts."""
    return record.model_dump_json(indent=2), RecordFacts.of(record)
