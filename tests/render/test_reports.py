"""HTML, PDF and JUnit reports: complete, in order, escaped, self-contained and free of secrets."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from pypdf import PdfReader

from auditor.render import RenderOptions, get_renderer
from auditor.render.pdf import report_pdf_html
from auditor.render.templating import environment, render_template
from auditor.results import CheckStatus
from tests.render import synthetic
from tests.render.conftest import HOSTILE_DESCRIPTION, HOSTILE_NAME, SECRET, SECRET_MASK, sample_run, small_run


@pytest.fixture(scope="module")
def html(run) -> str:
    return get_renderer("html").render(run, RenderOptions()).decode("utf-8")


@pytest.fixture(scope="module")
def pdf(run) -> bytes:
    """One PDF of the small run for every PDF test (WeasyPrint takes a second or two)."""
    return get_renderer("pdf").render(run, RenderOptions())


@pytest.fixture(scope="module")
def pdf_pages(pdf) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def pdf_text(pdf_pages) -> str:
    """All pages' text, runs of white space (line breaks of the layout) made single spaces."""
    return " ".join(" ".join(pdf_pages).split())


# --- HTML ---------------------------------------------------------------------------------------

def test_html_escapes_untrusted_text(html) -> None:
    assert HOSTILE_NAME not in html and HOSTILE_DESCRIPTION not in html
    assert "&lt;script&gt;alert(&#34;tenant&#34;)&lt;/script&gt; &amp; Co" in html
    assert "&lt;script&gt;alert(&#34;stripe&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert html.count("<script") == 1  # only the report's own small filter script


def test_html_is_self_contained(html) -> None:
    assert not re.search(r"<link\b|<script[^>]*\bsrc=|<img\b|<iframe|@import|url\(\s*['\"]?(https?:)?//", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "<style>" in html and "<svg" in html
    assert "overflow-wrap: anywhere" in html  # long URLs and names wrap instead of breaking the layout


def test_html_sections_in_order(html) -> None:
    order = ["Action needed", "Records by environment", "Status per environment",
             "Most frequently failing rules", 'id="matrix"', 'id="findings"', 'id="evidence"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_html_summary_counts(html, run) -> None:
    assert "Action needed" in html
    assert "5 tenants, 5 records" in html
    assert run.config in html and "0.1.0" in html and "asked Stripe (read-only)" in html


def test_html_matrix_is_worst_first(html) -> None:
    matrix = html[html.index('id="matrix-table"'):html.index('id="findings"')]
    order = [matrix.index(name) for name in ("Seeblick Sport", "&lt;script&gt;", "Bergmann Digital",
                                             "Kieler Rundschau", "Leaky")]
    assert order == sorted(order)
    assert "WH002–009" in matrix  # the errored rules, compactly


def test_html_findings_are_concrete(html) -> None:
    findings = html[html.index('id="findings"'):html.index('id="evidence"')]
    # WH004: expected beside found, the difference marked
    assert '<th class="k">found</th>' in findings and '<th class="k">expected</th>' in findings
    assert "<del>/</del>" in findings and "<ins>.0</ins>" in findings
    # WH006: the missing events as a list
    assert re.search(r"missing \(1\)</span><ul class=\"items\"><li><code>[a-z_.]+</code></li></ul>", findings)
    # remediation keeps its line breaks (preformatted) and has this tenant's values
    assert re.search(r"<pre>In the Stripe Dashboard[^<]*HOSTILE0000000000001/, click[^<]*\n  https://", findings)
    # the error with its reason, the waiver with reason, owner and expiry
    assert "could not be run" in findings and "HTTP 403" in findings
    assert "Waived</b> until 2026-12-31 · approved by payments-lead@plenigo.test · reason: second endpoint" in findings
    # passing checks collapsed
    assert '<details class="passing"><summary>24 passing checks</summary>' in findings


def test_html_evidence_appendix(html) -> None:
    evidence = html[html.index('id="evidence"'):]
    assert "https://callbacks.plenigo.com/callbacks/v1/stripe/HOSTILE0000000000001/" in evidence
    assert "enabled · 14 events · live" in evidence
    assert "/v1/webhook_endpoints: permission HTTP 403" in evidence
    assert "yes / yes / yes" in evidence


def test_html_changes_since_previous_run(run) -> None:
    previous = small_run()
    previous.generated_at = previous.generated_at.replace(day=15)
    fixed_then = previous.records[4].checks[0]  # failed last week, passes now
    fixed_then.status = CheckStatus.FAIL
    previous.records[1].checks = [c for c in previous.records[1].checks if c.rule != "WH006"]  # new this week
    text = get_renderer("html").render(run, RenderOptions(previous=previous)).decode("utf-8")
    changes = text[text.index("Changes since the previous run"):text.index('id="matrix"')]
    assert "2026-11-15" in changes
    assert "1 new failure · 1 resolved · 0 new errors" in changes
    assert "new failure" in changes and "WH006" in changes and "resolved" in changes and "ACC001" in changes


def test_html_of_the_real_sample_fleet() -> None:
    text = get_renderer("html").render(sample_run(), RenderOptions()).decode("utf-8")
    assert "Kieler Rundschau GmbH" in text and "charge.dispute.funds_withdrawn" in text
    assert "<del>" in text and "<ins>" in text


# --- PDF ----------------------------------------------------------------------------------------

def test_pdf_has_names_rules_events_and_fixes(pdf, pdf_text) -> None:
    assert pdf.startswith(b"%PDF")
    missing = synthetic.record("BERGMANND1G1TAL00004", "x", "live", "missing_events").check("WH006").details["missing"]
    for expected in ("Bergmann Digital GmbH", "Seeblick Sport e.V.", "Kieler Rundschau GmbH", "WH004", "WH006",
                     "WH002–009", *missing, "HOW TO FIX", "click ⋯ → Update details and replace the endpoint URL with:",
                     "https://callbacks.plenigo.com/callbacks/v1.0/stripe/HOSTILE0000000000001",
                     "Waived until 2026-12-31", "Evidence appendix"):
        assert expected in pdf_text, expected


def test_pdf_shows_hostile_text_as_text(pdf_text) -> None:
    assert '<script>alert("tenant")</script> & Co' in pdf_text


def test_pdf_pages_have_header_and_page_numbers(pdf_pages) -> None:
    total = len(pdf_pages)
    assert total >= 3
    for number, text in enumerate(pdf_pages, start=1):
        assert f"page {number} of {total}" in text
        if number > 1:
            assert "plenigo Stripe compliance audit · run of 2026-11-22 06:00 UTC" in text


def test_pdf_at_fleet_scale_groups_fixes_and_lists_clean_tenants() -> None:
    html = report_pdf_html(synthetic.fleet(150), RenderOptions())
    assert "How to fix, by rule" in html and "HOW TO FIX" not in html.upper().replace("HOW TO FIX, BY RULE", "")
    assert "Tenants whose every record passed" in html
    fixes = html[html.index("How to fix, by rule</h2>"):]
    assert re.search(r"<pre>In the Stripe Dashboard[^<]*&lt;expected_url&gt;", fixes)  # the catalogue's steps, once
    assert "expected&nbsp;https://" in html  # ... and each finding its own values


# --- JUnit --------------------------------------------------------------------------------------

def test_junit_parses_and_counts_match(run) -> None:
    root = ET.fromstring(get_renderer("junit").render(run, RenderOptions()))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"{r.company_id} {r.environment}" for r in run.records]
    for suite, record in zip(suites, run.records, strict=True):
        statuses = [c.status for c in record.checks]
        expected = (len(statuses), statuses.count(CheckStatus.FAIL), statuses.count(CheckStatus.ERROR),
                    statuses.count(CheckStatus.SKIPPED) + statuses.count(CheckStatus.WAIVED))
        counted = tuple(int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped"))
        assert counted == expected
        assert (len(suite.findall("testcase")), len(suite.findall("testcase/failure")),
                len(suite.findall("testcase/error")), len(suite.findall("testcase/skipped"))) == expected
    totals = [sum(int(s.get(k)) for s in suites) for k in ("tests", "failures", "errors", "skipped")]
    assert [int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")] == totals
    case = suites[0].find("testcase[@name='WH004 endpoint-company-id']")
    assert case is not None and case.find("failure").get("type") == "critical"
    waived = suites[3].find("testcase[@name='WH008 endpoint-unique']/skipped")
    assert "waived until 2026-12-31 by payments-lead@plenigo.test" in waived.get("message")


def test_junit_keeps_hostile_text_as_text(run) -> None:
    root = ET.fromstring(get_renderer("junit").render(run, RenderOptions()))
    tenants = [p.get("value") for p in root.iter("property") if p.get("name") == "tenant"]
    assert HOSTILE_NAME in tenants


# --- Secrets and templates ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["html", "json", "junit", "table"])
def test_no_secret_in_any_format(run, name) -> None:
    text = get_renderer(name).render(run, RenderOptions()).decode("utf-8")
    assert SECRET not in text
    assert SECRET_MASK in text or name == "table"  # the table shortens long names (then masks what is left)


def test_no_secret_in_the_pdf(pdf_text) -> None:
    assert SECRET not in pdf_text and SECRET[8:] not in pdf_text
    assert SECRET_MASK in pdf_text


def test_templates_come_from_the_installed_package(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # not the current folder
    import jinja2

    env = environment()
    assert isinstance(env.loader, jinja2.PackageLoader) and env.autoescape
    out = render_template("base.html.j2", title="<b>t</b>", generated="now", medium="screen", css="")
    assert "&lt;b&gt;t&lt;/b&gt;" in out


def test_pdf_layout_fetches_nothing_even_if_markup_asks() -> None:
    """Should markup ever slip past escaping, WeasyPrint still may not fetch a URL (or reveal the run to a server)."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from auditor.render.pdf_child import html_to_pdf

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        pdf = html_to_pdf(f'<link rel="stylesheet" href="{base}/style.css"><p>text</p><img src="{base}/pixel.png">'
                          f'<p style="background: url({base}/bg.png)">more</p>')
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF") and hits == []


def test_pdf_wraps_a_tenant_name_without_spaces() -> None:
    """Untrusted text may not run off the page: a 230-character name is broken over lines inside the margins."""
    from tests.render import synthetic

    name = "Verlagsgesellschaft" * 12 + " GmbH"
    run = synthetic.run_of([synthetic.record("LONGNAME000000000001", name, "live", "wrong_path")])
    reader = PdfReader(io.BytesIO(get_renderer("pdf").render(run, RenderOptions())))
    pieces: list[tuple[float, float, str]] = []  # right edge estimate, page width, text

    for page in reader.pages:
        width = float(page.mediabox.width)

        def visit(text, cm, tm, font, size, width=width) -> None:
            if "Verlagsgesellschaft" in text:
                x = tm[4] * cm[0] + cm[4]
                pieces.append((x + len(text) * size * cm[0] * 0.5, width, text))  # ~0.5 em a character

        page.extract_text(visitor_text=visit)
    assert len(pieces) > 2  # the name is found, in several pieces
    assert all(right <= page_width for right, page_width, _ in pieces), max(pieces)


# --- First screen, by rule, tags, attachment (issue 15) ---------------------------------------

@pytest.fixture(scope="module")
def fleet_pdf() -> tuple[object, bytes]:
    """A 300-tenant fleet's PDF: grouped fixes, a by-rule chapter, many pages."""
    run = synthetic.fleet(300)
    return run, get_renderer("pdf").render(run, RenderOptions())


def _texts(pdf: bytes, stop: Callable[[str], bool] = lambda text: False) -> list[str]:
    """Each page's text, runs of white space made single spaces, up to and including the first page for which
    ``stop`` is true (every page if none is): pypdf reads about 7 pages a second, and a test that looks only
    at the front of a 40-page PDF need not read the rest."""
    texts: list[str] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        texts.append(" ".join(page.extract_text().split()))
        if stop(texts[-1]):
            break
    return texts


def test_pdf_page_one_names_severity_counts_and_top_actions(fleet_pdf) -> None:
    from auditor.render.triage import build_triage

    run, pdf = fleet_pdf
    triage = build_triage(run)
    first = _texts(pdf, stop=lambda text: True)[0]
    assert "What to fix first" in first and "Top actions" in first
    critical = next(s for s in triage.by_severity if s.severity == "critical")
    assert f"checks {critical.checks:,}" in first.replace("CRITICAL HIGH MEDIUM LOW INFO ", "")
    for group in triage.actions:
        assert f"{group.rule} {group.slug}" in first
    assert "Could not be audited" in first and "permission (HTTP 403)" in first
    assert "FIX The key is a restricted" in first


def test_pdf_by_rule_comes_before_the_records_pages_and_bookmarks_stay(fleet_pdf) -> None:
    _, pdf = fleet_pdf
    reader = PdfReader(io.BytesIO(pdf))
    texts = _texts(pdf, stop=lambda text: "Findings per record" in text)
    by_rule = next(i for i, t in enumerate(texts) if "How to fix, by rule" in t)
    findings = next(i for i, t in enumerate(texts) if "Findings per record" in t)
    assert by_rule < findings <= len(reader.pages) // 3  # before the per-tenant pages, near the front

    def titles(outline) -> list[str]:
        return [t for item in outline for t in (titles(item) if isinstance(item, list) else [item.title])]

    names = titles(reader.outline)
    assert "What to fix first" in names and "How to fix, by rule" in names and "Findings per record" in names
    assert sum("T000" in n for n in names) > 50  # one bookmark per record with findings


def test_pdf_is_tagged_for_screen_readers(pdf) -> None:
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en"


def test_pdf_carries_its_results_json(pdf, run) -> None:
    from auditor.results import RunResult

    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == ["results.json"]
    [data] = attachments["results.json"]
    assert data == get_renderer("json").render(run, RenderOptions())  # byte for byte what --format json writes
    assert RunResult.from_json(data.decode("utf-8")).summary == run.summary
    assert SECRET.encode() not in data


def test_pdf_has_no_mostly_blank_pages() -> None:
    """The sample fleet: every page but the last of a part is at least half full (no chapter break per page)."""
    pages = _texts(get_renderer("pdf").render(sample_run(), RenderOptions()))
    # the page before the appendix may end short
    portrait = [len(t) for t in pages if "Evidence appendix" not in t][:-1]
    assert portrait and min(portrait) > 0.5 * max(portrait), portrait


def test_first_screen_comes_first_in_the_html(html) -> None:
    order = ["Action needed", "fs-head\">What to fix first", "Failed checks by severity", "Top actions",
             "Could not be audited", "Run at", "Records by environment", 'id="by-rule"', 'id="matrix"', 'id="findings"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert '<a href="#rule-WH004"><b>WH004</b></a>' in html  # an action leads to its rule


def test_html_changes_are_on_the_first_screen_news_first(run) -> None:
    previous = small_run()
    previous.generated_at = previous.generated_at.replace(day=15)
    previous.records[1].checks = [c for c in previous.records[1].checks if c.rule != "WH006"]
    text = get_renderer("html").render(run, RenderOptions(previous=previous)).decode("utf-8")
    assert text.index("Changes since the previous run (2026-11-15 06:00 UTC)") < text.index("Records by environment")
    assert "2026-11-15T" not in text  # one date format everywhere
    assert "1 new failure · 0 resolved · 0 new errors" in text


def test_info_is_neutral_in_the_charts(run) -> None:
    from auditor.render.charts import SEVERITY_COLORS, top_rules

    svg = top_rules([("WH007", "events-extra", 3, "info"), ("WH004", "endpoint-company-id", 2, "critical")])
    assert f'fill="{SEVERITY_COLORS["info"]}"' in svg and SEVERITY_COLORS["info"] == "#607d8b"
    assert svg.count('fill="#c62828"') == 0  # no rule in the fail red


def test_counts_are_pluralised() -> None:
    one_error = synthetic.run_of([synthetic.record("E0000000000000000005", "Epsilon", "stage", "error")])
    text = get_renderer("html").render(one_error, RenderOptions()).decode("utf-8")
    assert "Could not be audited: 1 record, 1 cause" in text and "1 errors" not in text and "1 records" not in text


def test_pdf_tags_point_at_the_page_of_their_content(fleet_pdf) -> None:
    """Every page's content is tagged, and each tag names its own page (the layout caches page references)."""
    reader = PdfReader(io.BytesIO(fleet_pdf[1]))
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    seen: dict[int, set[str]] = {}
    stack = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not hasattr(node, "get"):
            continue
        if "/Pg" in node:
            seen.setdefault(node.raw_get("/Pg").idnum, set()).add(node.get("/S"))
        if "/K" in node:
            stack.append(node["/K"])
    assert set(seen) == set(pages)  # every page, and nothing but pages
    first, last = (next(i for i, n in pages.items() if n == k) for k in (0, len(pages) - 1))
    assert "/H1" in seen[first] and "/H1" not in seen[last]  # the title is tagged on page 1, not elsewhere


def _visible_text(html: str) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded, whitespace collapsed)."""
    from html.parser import HTMLParser

    parts: list[str] = []

    class Text(HTMLParser):
        def handle_data(self, data: str) -> None:
            parts.append(data)

    parser = Text(convert_charrefs=True)
    parser.feed(re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S))
    return " ".join(" ".join(parts).split())


def test_counts_in_prose_agree_in_number_and_never_say_zero_records() -> None:
    """No "1 events" in the evidence, no "0 records · 38 waived" for a rule that is only waived."""
    html = get_renderer("html").render(sample_run(), RenderOptions()).decode("utf-8")
    fleet = get_renderer("html").render(synthetic.fleet(120), RenderOptions()).decode("utf-8")
    for text in (_visible_text(html), _visible_text(fleet)):
        assert not re.search(r"(?<![\d,])1 (events|errors|records|checks|tenants|causes|rules)\b", text)
        assert " 0 records" not in text
    assert "enabled · 1 event · live" in _visible_text(html)  # the merchant's own endpoint with one event
    assert re.search(r"WH008 endpoint-unique · \d+ waived", _visible_text(fleet))


def test_many_changes_leave_the_first_screen_one_screen() -> None:
    """A run compared with a very different one (some 750 changes): 10 per kind on the first screen, after the
    causes; every change still in report.html, folded just below."""
    from auditor.changes import compare

    run, previous = synthetic.fleet(500), synthetic.fleet(500, seed=8)
    html = get_renderer("html").render(run, RenderOptions(previous=previous)).decode("utf-8")
    fold = html.index('<details class="changes-rest" id="changes-rest">')
    first, folded = html[:fold], html[fold:html.index("</details>", fold)]
    assert first.index("Could not be audited") < first.index("Changes since the previous run")
    kinds = re.findall(r'<span class="st st-(fail|error|pass)">', first)
    assert 0 < max(kinds.count(k) for k in ("fail", "error", "pass")) <= 10
    assert re.search(r"… and [\d,]+ more new failures \(<a href=\"#changes-rest\">all changes</a>\)", first)
    changes = compare(previous, run)
    total = len(changes.new_failures) + len(changes.new_errors) + len(changes.resolved)
    assert len(re.findall(r'<span class="st st-(?:fail|error|pass)">', folded)) == total > 500


def test_many_changes_keep_by_rule_near_the_front_of_the_pdf() -> None:
    """Compared with a very different run, the PDF lists 10 changes per kind (all are in report.html and
    results.json), so "How to fix, by rule" still starts by page 3 (page 14 with 100 per kind)."""
    run, previous = synthetic.fleet(150, seed=3), synthetic.fleet(150, seed=8)
    pdf = get_renderer("pdf").render(run, RenderOptions(previous=previous))
    pages = _texts(pdf, stop=lambda text: "How to fix, by rule" in text or "By rule Every rule" in text)
    by_rule = next(i for i, text in enumerate(pages) if "How to fix, by rule" in text or "By rule Every rule" in text)
    assert by_rule <= 2, f"by rule starts on page {by_rule + 1}"
    assert re.search(r"… and [\d,]+ more new failures \(all are in report\.html and results\.json\)",
                     " ".join(pages[:by_rule + 1]))
