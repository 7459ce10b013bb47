"""The layout process parses a run's one stylesheet once, and the PDF it lays out stays the same."""

from __future__ import annotations

import io

from pypdf import PdfReader

from auditor.render import pdf_child
from auditor.render.pdf_child import html_to_pdf, split_stylesheet

CSS = "@page { size: A5; @bottom-right { content: 'page ' counter(page) } } h1 { color: #123456 } " \
      "section.wide { page: wide; break-before: page } @page wide { size: A4 landscape }"
DOC = (f"<!DOCTYPE html><html lang='en'><head><title>t</title><style>{CSS}</style></head>"
       "<body><h1>Heading</h1><p>text</p><section class='wide'><p>appendix</p></section></body></html>")


def test_the_head_stylesheet_is_taken_out_whole() -> None:
    body, css = split_stylesheet(DOC)
    assert css == CSS and "<style>" not in body and "<h1>Heading</h1>" in body


def test_documents_it_cannot_share_a_parsed_stylesheet_with_are_left_whole() -> None:
    two = DOC.replace("</head>", "<style>p { color: red }</style></head>")
    in_body = DOC.replace(f"<style>{CSS}</style>", "").replace("<h1>", f"<style>{CSS}</style><h1>")
    font = DOC.replace(CSS, "@font-face { font-family: x; src: url(data:,) } " + CSS)
    for document in (two, in_body, font, "<p>no head</p>"):
        assert split_stylesheet(document) == (document, None)


def test_the_pdf_is_the_same_with_the_stylesheet_parsed_apart(monkeypatch) -> None:
    """Page sizes (named pages too), page-margin content and text as when WeasyPrint read the <style>."""
    shared = PdfReader(io.BytesIO(html_to_pdf(DOC)))
    monkeypatch.setattr(pdf_child, "split_stylesheet", lambda html: (html, None))
    whole = PdfReader(io.BytesIO(html_to_pdf(DOC)))
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in shared.pages]
    assert sizes == [(420, 595), (842, 595)]  # A5, then the landscape A4 of the named page
    assert sizes == [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in whole.pages]
    assert [p.extract_text() for p in shared.pages] == [p.extract_text() for p in whole.pages]
    assert "page 2" in shared.pages[1].extract_text()


def _replaced_box_sizes(document) -> list[tuple[float, float]]:
    """(width, height) of every replaced box (an inline SVG is one) of the first page, in tree order."""
    sizes, boxes = [], [document.pages[0]._page_box]
    while boxes:
        box = boxes.pop(0)
        if "Replaced" in type(box).__name__:
            sizes.append((box.width, box.height))
        boxes[:0] = getattr(box, "children", [])
    return sizes


def test_an_inline_svg_sized_by_the_stylesheet_keeps_its_size(monkeypatch) -> None:
    """An SVG's width and height attributes are author declarations: they would outrank a user sheet's height: auto."""
    chart = ("<div class='chart'><svg xmlns='http://www.w3.org/2000/svg' width='400px' height='100px' "
             "viewBox='0 0 400 100'><rect width='400' height='100'/></svg></div>")
    doc = DOC.replace(CSS, ".chart { width: 100px } .chart svg { max-width: 100%; height: auto }") \
             .replace("<h1>Heading</h1>", chart)
    shared = _replaced_box_sizes(pdf_child.lay_out(doc))
    monkeypatch.setattr(pdf_child, "split_stylesheet", lambda html: (html, None))
    assert shared == _replaced_box_sizes(pdf_child.lay_out(doc)) == [(100.0, 25.0)]


def test_a_stylesheet_with_important_declarations_is_left_in_the_document() -> None:
    """A user sheet's !important outranks an author's (a style attribute's): the cascade would change."""
    important = DOC.replace(CSS, "h1 { color: red !important } " + CSS)
    assert split_stylesheet(important) == (important, None)
