"""``report.html``: the whole report on one self-contained page (inline CSS and SVG, no external assets)."""

from __future__ import annotations

from auditor.render import RenderOptions
from auditor.render.charts import status_by_environment, top_rules
from auditor.render.templating import render_bytes, stylesheet
from auditor.render.view import ReportView, build_view, evidence_row
from auditor.results import RunResult

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def common_context(view: ReportView, options: RenderOptions, medium: str) -> dict:
    """What every report template needs: base layout, summary and charts (the email reuses it)."""
    return {
        "view": view,
        "title": options.title,
        "generated": view.run.generated_at.strftime(TIME_FORMAT),
        "medium": medium,
        "charts": {"status": status_by_environment(view.by_env), "rules": top_rules(view.top_rules)},
        "changes_limit": None,
    }


def report_html(run: RunResult, options: RenderOptions) -> bytes:
    """report.html as UTF-8 bytes (rendered in a stream: a fleet's report is a few MB)."""
    view = build_view(run, options.previous)
    return render_bytes(
        "report.html.j2",
        **common_context(view, options, "screen"),
        css=stylesheet("report.css"),
        evidence=(evidence_row(r) for r in run.records),
    )


class HtmlRenderer:
    name = "html"
    filename = "report.html"

    def render(self, run: RunResult, options: RenderOptions) -> bytes:
        return report_html(run, options)
