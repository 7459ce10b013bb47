"""``report.html``: the whole report on one self-contained page (inline CSS and SVG, no external assets)."""

from __future__ import annotations

from typing import Any

import auditor.render.html_fragments as html_fragments
from auditor.render.charts import status_by_environment, top_rules
from auditor.render.evidence_table import evidence_row
from auditor.render.interface import RenderOptions
from auditor.render.templating import TIME_FORMAT, render_bytes, stylesheet
from auditor.render.triage import Triage, build_triage
from auditor.render.view import ReportView, build_view
from auditor.results import RunResult

__all__ = ["TIME_FORMAT", "common_context", "report_html"]


def common_context(view: ReportView, options: RenderOptions, medium: str) -> dict[str, Any]:
    """What every report template needs: base layout, first screen, summary and charts."""
    triage = build_triage(view.run)
    return {
        "view": view,
        "triage": triage,
        "title": options.title,
        "generated": view.run.generated_at.strftime(TIME_FORMAT),
        "medium": medium,
        "charts": {"status": status_by_environment(view.by_env), "rules": top_rules(_chart_rules(triage))},
        "changes_limit": None,
    }


CHANGES_SHOWN = 10  # changes per kind on the first screen; all of them are folded just below it


def _chart_rules(triage: Triage, limit: int = 8) -> list[tuple[str, str, int, str]]:
    """The most frequently failing rules, each with its severity (the bar's colour)."""
    failing = sorted((g for g in triage.rules if g.failing), key=lambda g: (-len(g.failing), g.rule))[:limit]
    return [(g.rule, g.slug, len(g.failing), g.severity) for g in failing]


def filter_rules(view: ReportView) -> list[str]:
    """Every rule a finding on the page names, in catalogue order: the choices of the rule filter."""
    rules = {f.check.rule for rv in view.records for f in rv.findings}
    rules |= {c.rule for rv in view.records for g in rv.errors for c in g.checks}
    return sorted(rules, key=_catalogue_key)


def _catalogue_key(rule: str) -> tuple[int, str]:
    prefix = rule.rstrip("0123456789")
    return ({"ACC": 0, "KEY": 1, "WH": 2, "TEN": 3}.get(prefix, 9), rule)


def report_html(run: RunResult, options: RenderOptions) -> bytes:
    """report.html as UTF-8 bytes (rendered in a stream: a fleet's report is a few MB)."""
    view = build_view(run, options.previous)
    return render_bytes(
        "report.html.j2",
        **{**common_context(view, options, "screen"), "changes_limit": CHANGES_SHOWN},
        css=stylesheet("report.css", "screen.css"),
        filter_rules=filter_rules(view),
        fragments=html_fragments,
        evidence=(evidence_row(r) for r in run.records),
    )


class HtmlRenderer:
    name = "html"
    filename = "report.html"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        return report_html(run, options)
