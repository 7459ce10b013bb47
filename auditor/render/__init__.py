"""Renderers: one module per output format, each behind the small interface below.

Adding a format is adding a module with a :class:`Renderer` and one line in
:data:`FORMATS`. Every renderer works from a :class:`~auditor.results.RunResult`
alone, so a saved ``results.json`` can be rendered again without Stripe.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from auditor.results import RunResult


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer may need beyond the results."""

    previous: RunResult | None = None  # an earlier run, for the "changes" section
    color: bool = False
    title: str = "plenigo Stripe compliance audit"
    extra: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    name: str
    filename: str | None  # None: written to standard output

    def render(self, run: RunResult, options: RenderOptions) -> bytes: ...


# format name -> "module:Class"; imported only when used (WeasyPrint is slow to import)
FORMATS: dict[str, str] = {
    "table": "auditor.render.table:TableRenderer",
    "json": "auditor.render.json:JsonRenderer",
    "html": "auditor.render.html:HtmlRenderer",
    "pdf": "auditor.render.pdf:PdfRenderer",
    "junit": "auditor.render.junit:JunitRenderer",
    "prometheus": "auditor.render.prometheus:PrometheusRenderer",
    "csv": "auditor.render.spreadsheet:CsvRenderer",
}


def get_renderer(name: str) -> Renderer:
    module_name, _, cls = FORMATS[name].partition(":")
    return getattr(importlib.import_module(module_name), cls)()
