"""Renderers: one module per output format, each behind the small interface of :mod:`auditor.render.interface`.

:data:`FORMATS` is the one list of formats: each entry says where the format
goes (a file name, or standard output), which commands offer it and which
class renders it; ``audit run``, ``audit report`` and ``audit checklist``
take their ``--format`` choices and help from it. Adding a format is one
entry here plus its module. Every renderer works from a
:class:`~auditor.results.RunResult` alone, so a saved ``results.json`` can be
rendered again without Stripe. Renderer modules are imported only when used
(WeasyPrint is slow to import).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from auditor.render.interface import Renderer, RenderOptions

__all__ = ["FORMATS", "Format", "RenderOptions", "Renderer", "formats_for", "get_renderer"]


@dataclass(frozen=True)
class Format:
    """One output format: its ``--format`` name, where it goes, and which commands offer it.

    A run's report goes to ``filename`` in ``--output`` (None: standard output).
    The checklist has one file per tenant and environment,
    ``checklist-<company_id>-<env><checklist_suffix>`` (None: standard output).
    """

    name: str
    renderer: str  # "module:Class" of the RunResult renderer
    filename: str | None
    commands: frozenset[str]
    checklist_suffix: str | None = None


def _format(name: str, renderer: str, filename: str | None, *commands: str,
            checklist_suffix: str | None = None) -> Format:
    return Format(name=name, renderer=renderer, filename=filename, commands=frozenset(commands),
                  checklist_suffix=checklist_suffix)


# The one list of formats, in the order `--help` names them.
FORMATS: dict[str, Format] = {f.name: f for f in (
    _format("table", "auditor.render.table:TableRenderer", None, "run", "report", "checklist"),
    _format("json", "auditor.render.json:JsonRenderer", "results.json", "run", "report", "checklist"),
    _format("html", "auditor.render.html:HtmlRenderer", "report.html", "run", "report", "checklist",
            checklist_suffix=".html"),
    _format("pdf", "auditor.render.pdf:PdfRenderer", "report.pdf", "run", "report", "checklist",
            checklist_suffix=".pdf"),
    _format("junit", "auditor.render.junit:JunitRenderer", "junit.xml", "run", "report"),
    _format("csv", "auditor.render.spreadsheet:CsvRenderer", "results.csv", "run"),
    _format("prometheus", "auditor.render.prometheus:PrometheusRenderer", "metrics.prom", "run", "report"),
)}


def formats_for(command: str) -> tuple[str, ...]:
    """The format names ``command`` offers, in registry order."""
    return tuple(name for name, entry in FORMATS.items() if command in entry.commands)


def get_renderer(name: str) -> Renderer:
    """The renderer of format ``name``, its module imported now."""
    module_name, _, cls = FORMATS[name].renderer.partition(":")
    renderer: Renderer = getattr(importlib.import_module(module_name), cls)()
    return renderer
