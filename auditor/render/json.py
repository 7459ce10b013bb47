"""``results.json``: the canonical record of a run (schema ``plenigo-stripe-audit/1``)."""

from __future__ import annotations

from auditor.redact import scrub
from auditor.render import RenderOptions
from auditor.results import RunResult


class JsonRenderer:
    name = "json"
    filename = "results.json"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        """Pretty-printed JSON, built record by record.

        A fleet's results.json runs to tens of MB; dumping, scrubbing and encoding
        it whole would hold three copies at once. Each record is dumped, scrubbed
        and encoded alone, so only the pieces and the joined result are held.
        """
        head = run.model_copy(update={"records": []}).to_json()
        opening, _, closing = head.rpartition('"records": []')
        pieces = [scrub(opening).encode("utf-8"), b'"records": [']
        for index, record in enumerate(run.records):
            text = record.model_dump_json(indent=2)
            text = "\n    " + text.replace("\n", "\n    ")
            pieces.append(("," if index else "").encode("utf-8") + scrub(text).encode("utf-8"))
        pieces.append(b"\n  ]" + scrub(closing).encode("utf-8") + b"\n")
        return b"".join(pieces)
