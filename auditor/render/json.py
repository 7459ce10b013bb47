"""``results.json``: the canonical record of a run (schema ``plenigo-stripe-audit/1``)."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.redact import scrub
from auditor.render.interface import RenderOptions
from auditor.results import RunResult, record_texts


class JsonRenderer:
    name = "json"
    filename = "results.json"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        return b"".join(self.chunks(run, options))

    def chunks(self, run: RunResult, options: RenderOptions) -> Iterator[bytes]:
        """Pretty-printed JSON, record by record, to be written as it is made.

        A fleet's results.json runs to tens of MB; dumping, scrubbing and encoding
        it whole would hold several copies at once. Each record is dumped, scrubbed
        and encoded alone, and written before the next is made.
        """
        head = run.model_copy(update={"records": []}).to_json()
        opening, _, closing = head.rpartition('"records": []')
        yield scrub(opening).encode("utf-8") + b'"records": ['
        for index, text in enumerate(record_texts(run.records)):
            text = "\n    " + text.replace("\n", "\n    ")
            yield ("," if index else "").encode("utf-8") + scrub(text).encode("utf-8")
        yield b"\n  ]" + scrub(closing).encode("utf-8") + b"\n"
