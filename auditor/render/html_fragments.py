"""The inner loops of report.html, built in Python: one row or list per call instead of a macro per value.

A 1,000-tenant report has about 2,000 matrix cells, 2,000 evidence rows and 15,000
passing checks; as Jinja macros and filters they were most of the HTML's rendering
time. Each function returns escaped markup (markupsafe, as the template's
autoescape would) that reads exactly as the template's macros wrote it. The PDF
keeps its macros: its markup differs and its time goes into the layout.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from auditor.render.evidence_table import EvidenceRow
from auditor.render.findings import RecordView
from auditor.render.matrix import Cell, MatrixRow
from auditor.render.triage import RecordRef, plural

ENVIRONMENTS = ("stage", "live")


def _e(value: object) -> str:
    return str(escape(value))


def cell_text(cell: Cell) -> str:
    """Status, then errored and failed rules, info and waived ones (the classes colour them)."""
    out = [f"<b>{_e(cell.status.upper())}</b>"]
    if cell.mixed:
        out.append(f' <span class="r-error">{_e(" ".join(cell.errors))}</span>'
                   f' <span class="r-fail">{_e(" ".join(cell.failing))}</span>')
    elif cell.rules:
        out.append(f" {_e(cell.rules)}")
    if cell.info:
        out.append(f' <span class="r-info">{_e(" ".join(cell.info))}</span>')
    if cell.waived:
        out.append(f' <span class="r-waived">waived {_e(" ".join(cell.waived))}</span>')
    return "".join(out)


def matrix_cell(cell: Cell | None, anchor: str | None) -> str:
    """A cell; with an anchor it links to the record's findings (one click from the matrix)."""
    if cell is None:
        return '<td class="mc st-none">no record</td>'
    text = cell_text(cell)
    if anchor:
        text = f'<a href="#{_e(anchor)}">{text}</a>'
    return f'<td class="mc mc-{_e(cell.status)}">{text}</td>'


def matrix_row(row: MatrixRow) -> Markup:
    """One tenant's row; ``data-records`` names the findings its cells link to (the filters use it)."""
    cid = _e(row.company_id)
    anchors = {env: f"{row.company_id}-{env}" for env, cell in row.cells.items()
               if cell is not None and cell.has_findings}
    records = "".join(f"{_e(a)} " for a in anchors.values())
    cells = "".join(matrix_cell(row.cells[env], anchors.get(env)) for env in ENVIRONMENTS)
    return Markup(f'<tr data-records="{records}"><td>{_e(row.tenant)}</td><td><code>{cid}</code></td>{cells}</tr>')


def record_links(refs: Iterable[RecordRef]) -> Markup:
    """Records as links to their findings, separated by ``·``."""
    return Markup(" · ".join(f'<a href="#{_e(r.anchor)}">{_e(r.tenant)}</a>&nbsp;<span class="muted">'
                             f"{_e(r.environment)}</span>" for r in refs))


def passing(rv: RecordView) -> Markup:
    """The record's passing and skipped checks, folded (the filters hide them; the findings come first)."""
    if not (rv.passing or rv.skipped):
        return Markup("")
    skipped = f", {len(rv.skipped)} skipped" if rv.skipped else ""
    items = "".join(f"<li><strong>{_e(c.rule)}</strong> {_e(c.slug)}: {_e(c.message)}</li>" for c in rv.passing)
    skips = "".join(f"<li><strong>{_e(c.rule)}</strong> {_e(c.slug)}: skipped ({_e(c.message)})</li>"
                    for c in rv.skipped)
    return Markup(f'<details class="passing"><summary>{_e(plural(len(rv.passing), "passing check"))}{skipped}'
                  f"</summary>\n<ul>{items}{skips}</ul>\n</details>\n")


def _flags(flags: tuple[bool | None, bool | None, bool | None] | None) -> str:
    if not flags:
        return "—"
    return " / ".join("?" if f is None else ("yes" if f else "no") for f in flags)


def _endpoints(row: EvidenceRow) -> str:
    if row.endpoints is None:
        return "—"
    if not row.endpoints:
        return "none"
    out = []
    for w in row.endpoints:
        events = "all events (*)" if w.wildcard else f"{w.events} events"
        mode = "?" if w.livemode is None else ("live" if w.livemode else "test")
        description = f" · “{_e(w.description)}”" if w.description else ""
        out.append(f'<p class="ep"><code>{_e(w.url)}</code> · {_e(w.status)} · {_e(events)} · {mode}{description}</p>')
    return "".join(out)


def evidence_row(row: EvidenceRow) -> Markup:
    """What Stripe answered for one record, as a row of the evidence appendix."""
    head = f"<tr><td><code>{_e(row.company_id)}</code></td><td>{_e(row.environment)}</td>\n"
    key = f"<td><code>{_e(row.key_hint or '—')}</code></td>"
    if not row.present:
        body = '<td colspan="6" class="muted">no evidence recorded</td>\n'
    elif row.not_asked:
        body = f'{key}<td colspan="5" class="muted">Stripe not asked: {_e(row.not_asked)}</td>\n'
    else:
        account = f"<code>{_e(row.account_id)}</code>" if row.account_id else "—"
        failed = "—" if row.failed_events is None else f"{row.failed_events}{'+' if row.failed_truncated else ''}"
        errors = "".join(f'<p class="ep r-error">{_e(err)}</p>' for err in row.errors)
        body = (f"{key}\n<td>{account}</td>\n<td>{_flags(row.flags)}</td>\n<td class=\"eps\">{_endpoints(row)}</td>\n"
                f'<td class="n">{failed}</td>\n<td>{errors}</td>\n')
    return Markup(f"{head}{body}</tr>\n")
