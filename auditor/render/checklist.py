"""The checklist as text, HTML and a one-to-two page PDF sign-off sheet."""

from __future__ import annotations

import textwrap

import click

from auditor.checklist import Checklist, Verdict
from auditor.redact import scrub
from auditor.results import CheckStatus
from auditor.terminal import visible

_MARK = {CheckStatus.PASS: "✓", CheckStatus.FAIL: "✗", CheckStatus.ERROR: "!", CheckStatus.SKIPPED: "–",
         CheckStatus.WAIVED: "W"}
_COLOR = {Verdict.READY: "green", Verdict.NOT_READY: "red", Verdict.CANNOT_CHECK: "magenta"}


def checklist_text(cl: Checklist, color: bool = False) -> str:
    lines = [f"Pre-go-live checklist · {cl.tenant} ({cl.company_id}) · {cl.environment}",
             f"checked {cl.generated_at:%Y-%m-%d %H:%M} UTC · plenigo Stripe compliance auditor {cl.tool_version}", ""]
    if not cl.items:
        lines += ["No record for this environment yet. Set it up like this:", ""]
        lines += [f"  {n}. " + textwrap.fill(step, 100, subsequent_indent="     ").lstrip()
                  for n, step in enumerate(cl.instructions, 1)]
        lines.append("")
    for item in cl.items:
        blocking = "  (blocking)" if item.blocking else ""
        lines.append(f"{item.number:>2}. [{_MARK[item.status]}] {item.title}{blocking}")
        lines.append(f"      where: {item.where}")
        lines += [f"      {e}" for e in item.evidence]
        lines += [f"        {'✓' if ok else '✗'} {event}" for event, ok in item.events]
        lines += [f"      {f}" for f in item.findings]
        for action in item.actions:
            lines.append("      action: " + textwrap.indent(action, " " * 14).lstrip())
    verdict = cl.verdict.value
    if color:
        verdict = click.style(verdict, fg=_COLOR[cl.verdict], bold=True)
    lines += ["", f"VERDICT: {verdict} — {visible(cl.reason)}"]
    return scrub(visible("\n".join(lines[:-1]), lines=True) + "\n" + lines[-1] + "\n")  # only our colour is raw


def instructions_text(cl: Checklist) -> str:
    head = [f"Setting up Stripe for plenigo · {cl.tenant} ({cl.company_id}) · {cl.environment}", ""]
    steps = [f"{n:>2}. " + textwrap.fill(step, 100, subsequent_indent="    ")
             for n, step in enumerate(cl.instructions, 1)]
    return scrub(visible("\n".join(head + steps), lines=True) + "\n")


def checklist_html(cl: Checklist, medium: str = "screen") -> str:
    from auditor.render.templating import render_template, stylesheet  # Jinja2: only for html and pdf (a person
    # waits for the table, and the import was a twentieth of the command)

    return render_template("checklist.html.j2", cl=cl, marks={s.value: m for s, m in _MARK.items()},
                           title=f"Pre-go-live checklist: {cl.tenant} ({cl.environment})",
                           generated=f"{cl.generated_at:%Y-%m-%d %H:%M} UTC", medium=medium,
                           css=stylesheet("report.css", "print.css") if medium == "print" else stylesheet("report.css"))


def checklist_pdf(cl: Checklist) -> bytes:
    """One page: laid out in this process (a child would cost more to start than the page to lay out)."""
    from auditor.render.pdf_child import html_to_pdf

    return html_to_pdf(checklist_html(cl, medium="print"))
