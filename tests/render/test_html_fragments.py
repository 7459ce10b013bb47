"""report.html's inner loops, built in Python: escaped exactly as the template's autoescape escapes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from auditor.render import html_fragments
from auditor.render.findings import record_view
from auditor.render.templating import environment
from tests.render import synthetic


@given(st.text())
def test_escapes_as_markupsafe(text: str) -> None:
    assert html_fragments._e(text) == str(escape(text))


def test_a_finding_with_hostile_values_is_escaped() -> None:
    record = synthetic.record("HOSTILE0000000000001", "<script>alert(1)</script> & Co", "live", "wrong_path")
    record.checks[0].message = '<img src=x onerror="alert(1)">'
    view = record_view(record)
    html = html_fragments.record_head(record) + "".join(html_fragments.finding(f) for f in view.findings)
    html += html_fragments.passing(view)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_a_badge_reads_as_the_templates_badge() -> None:
    macro = environment().from_string('{% import "_macros.j2" as m %}{{ m.badge("a<b", "fail") }}').render()
    assert html_fragments.badge("a<b", "fail") == macro
