"""Inline SVG charts drawn from the data: no scripts, no external assets, the same on screen and in print.

Every label goes through :func:`html.escape`: a chart may one day show a tenant's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLORS = {"pass": "#2e7d32", "fail": "#c62828", "error": "#6a1b9a"}
# the report's severity colours; info is neutral: it never fails a record and must not look like it does
SEVERITY_COLORS = {"critical": "#7f1010", "high": "#d32f2f", "medium": "#e65100", "low": "#f2b705", "info": "#607d8b"}
# a bar of the "most frequently failing rules" chart: (rule, slug, records[, severity])
ChartRule = tuple[str, str, int] | tuple[str, str, int, str]
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
_INK, _MUTED, _TRACK = "#1f2933", "#5f6b7a", "#eef1f4"


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
            f'<title>{escape(label)}</title>{body}</svg>')


def status_by_environment(by_env: dict[str, dict[str, int]], width: int = 400) -> str:
    """One stacked horizontal bar per environment (pass, fail, error), with counts and a legend."""
    most = max((sum(c.values()) for c in by_env.values()), default=0)
    label_w, row_h, bar_h = 48, 30, 20
    total_w = 8 + 7 * len(f"{most:,} records")  # room for the longest total label, never clipped
    bar_w = width - label_w - total_w
    parts = []
    for i, (env, counts) in enumerate(by_env.items()):
        total = sum(counts.values())
        y = 4 + i * row_h
        parts.append(f'<text x="0" y="{y + 14}" {_FONT} font-size="12" fill="{_INK}">{escape(env)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="{_TRACK}"/>')
        x = float(label_w)
        for status in ("pass", "fail", "error"):
            n = counts.get(status, 0)
            if not total or not n:
                continue
            w = bar_w * n / total
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLORS[status]}">'
                         f'<title>{escape(env)} {status}: {n}</title></rect>')
            if w >= 8 * len(str(n)) + 6:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 14}" text-anchor="middle" fill="#fff" {_FONT} '
                             f'font-size="11" font-weight="bold">{n:,}</text>')
            x += w
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" {_FONT} font-size="11" fill="{_MUTED}">'
                     f'{total:,} record{"" if total == 1 else "s"}</text>')
    legend_y = 4 + len(by_env) * row_h + 2
    x = label_w
    for status in ("pass", "fail", "error"):
        parts.append(f'<rect x="{x}" y="{legend_y}" width="10" height="10" fill="{COLORS[status]}"/>'
                     f'<text x="{x + 14}" y="{legend_y + 9}" {_FONT} font-size="11" fill="{_INK}">{status}</text>')
        x += 64
    return _svg(width, legend_y + 14, "records by status and environment", "".join(parts))


def top_rules(rules: Sequence[ChartRule], width: int = 680) -> str:
    """Horizontal bars: how many records fail each of the most frequently failing rules.

    Each rule is ``(rule, slug, records)`` or ``(rule, slug, records, severity)``; a bar has its severity's colour.
    """
    if not rules:
        return ""
    most = max(r[2] for r in rules) or 1
    label_w, count_w, row_h, bar_h = 260, 50, 20, 13
    bar_w = width - label_w - count_w
    parts = []
    for i, entry in enumerate(rules):
        rule, slug, n = entry[0], entry[1], entry[2]
        y = 2 + i * row_h
        color = SEVERITY_COLORS.get(entry[3], COLORS["fail"]) if len(entry) == 4 else COLORS["fail"]
        w = max(2.0, bar_w * n / most)
        parts.append(f'<text x="0" y="{y + 11}" {_FONT} font-size="11" fill="{_INK}"><tspan font-weight="bold">'
                     f'{escape(rule)}</tspan> {escape(slug)}</text>'
                     f'<rect x="{label_w}" y="{y + 1}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 11}" {_FONT} font-size="11" fill="{_INK}">{n:,}</text>')
    return _svg(width, 4 + len(rules) * row_h, "most frequently failing rules (records failing each)", "".join(parts))
