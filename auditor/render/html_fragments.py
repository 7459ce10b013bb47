"""The inner loops of report.html, built in Python: one row or list per call instead of a macro per value.

A 1,000-tenant report has about 2,000 matrix cells, 2,000 evidence rows and 15,000
passing checks; as Jinja macros and filters they were most of the HTML's rendering
time. Each function returns escaped markup (markupsafe, as the template's
autoescape would) that reads exactly as the template's macros wrote it. The PDF
keeps its macros: its markup differs and its time goes into the layout.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup

from auditor.render.evidence_table import EvidenceRow
from auditor.render.findings import ErrorGroup, Finding, RecordView
from auditor.render.matrix import ENVIRONMENTS, Cell, MatrixRow
from auditor.render.triage import RecordRef, plural
from auditor.render.url_diff import Segment
from auditor.results import RecordResult

_SEGMENT = {"same": "{}", "del": "<del>{}</del>"}


def _e(value: object) -> str:
    """Escaped exactly as markupsafe (and so the template's autoescape) does it, in a third of its time."""
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def cell_text(cell: Cell) -> str:
    """Status, then errored and failed rules, info and waived ones (the classes colour them)."""
    out = [f"<b>{_e(cell.status.upper())}</b>"]
    if cell.mixed:
        out.append(f' <span class="r-error">{_e(" ".join(cell.errors))}</span>'
                   f' <span class="r-fail">{_e(" ".join(cell.failing))}</span>')
    elif cell.errors or cell.failing:
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
    items = "".join(_check_item(c.rule, c.slug, c.message) for c in rv.passing)
    skips = "".join(_check_item(c.rule, c.slug, f"skipped ({c.message})") for c in rv.skipped)
    return Markup(f'<details class="passing"><summary>{_e(plural(len(rv.passing), "passing check"))}{skipped}'
                  f"</summary>\n<ul>{items}{skips}</ul>\n</details>\n")


@functools.lru_cache(maxsize=4096)  # a fleet's passing checks repeat a few hundred distinct messages
def _check_item(rule: str, slug: str, message: str) -> str:
    return f"<li><strong>{_e(rule)}</strong> {_e(slug)}: {_e(message)}</li>"


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
        events = "all events (*)" if w.wildcard else plural(w.events, "event")
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


def badge(text: str, kind: str) -> str:
    return f'<span class="badge b-{_e(kind)}">{_e(text)}</span>'


def record_head(r: RecordResult) -> Markup:
    status = r.status.value
    return Markup(f'<h3 class="rec-head">{badge(status, status)} <strong>{_e(r.tenant)}</strong> '
                  f'<span class="id">{_e(r.company_id)}</span> · {_e(r.environment)}</h3>\n')


def _url(segments: list[Segment]) -> str:
    marked = "".join(_SEGMENT.get(s.op, "<ins>{}</ins>").format(_e(s.text)) for s in segments)
    return f'<code class="url">{marked}</code>'


def finding(f: Finding) -> Markup:
    """A failed or waived check: badges, title, the URL difference as a small table, lists as lists, the fix."""
    c = f.check
    st, sev, rule = _e(c.status.value), _e(c.severity.value), _e(c.rule)
    title = f' <span class="muted">· {_e(c.title)}</span>' if c.title else ""
    out = [f'<div class="finding f-{st} sev-{sev}" data-rules="{rule}" data-severity="{sev}" data-status="{st}">\n'
           f'<p class="fh">{badge(sev, sev)}{" " + badge(st, st) if st != "fail" else ""} '
           f'<a class="rule" href="#rule-{rule}">{rule}</a> <span class="slug">{_e(c.slug)}</span>'
           f"{title}</p>\n"
           f'<p class="message">{_e(c.message)}</p>\n']
    if f.diff_found:
        out.append(f'<table class="urldiff"><tr><th class="k">found</th><td>{_url(f.diff_found)}</td></tr>\n'
                   f'<tr><th class="k">expected</th><td>{_url(f.diff_expected)}</td></tr></table>\n')
    for key, items in f.lists:
        listed = "".join(f"<li><code>{_e(item)}</code></li>" for item in items)
        out.append(f'<div class="kv"><span class="k">{_e(key)} ({len(items)})</span><ul class="items">{listed}</ul>'
                   f"</div>\n")
    if f.details:
        pairs = " · ".join(f'<span class="k">{_e(key)}</span> {_e(value)}' for key, value in f.details)
        out.append(f'<p class="kv">{pairs}</p>\n')
    if c.waiver:
        w = c.waiver
        out.append(f'<p class="waiver"><b>Waived</b> until {_e(w.expires)} · approved by {_e(w.approved_by)} · '
                   f"reason: {_e(w.reason)}</p>\n")
    if c.remediation and st == "fail":
        out.append(f'<div class="fix"><span class="k">How to fix</span><pre>{_e(c.remediation)}</pre></div>\n')
    out.append("</div>")
    return Markup("".join(out))


def error_group(g: ErrorGroup) -> Markup:
    """Checks that could not be run for one reason, together."""
    sev = _e(g.severity)
    rules = " ".join(c.rule for c in g.checks)
    checks = " · ".join(f"{_e(c.rule)} {_e(c.slug)}" for c in g.checks)
    return Markup(f'<div class="finding f-error sev-{sev}" data-rules="{_e(rules)}" data-severity="{sev}" '
                  f'data-status="error">\n<p class="fh">{badge(sev, sev)} {badge("error", "error")} '
                  f'<span class="rule">{_e(g.rules)}</span> <span class="slug">'
                  f'{_e(plural(len(g.checks), "check"))} could not be run</span></p>\n'
                  f'<p class="message">{_e(g.message)}</p>\n<p class="kv muted">{checks}</p>\n</div>')
