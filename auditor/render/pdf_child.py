"""The PDF layout process: framed HTML documents on standard input, framed PDFs on standard output.

Started by :class:`auditor.render.pdf.LayoutProcess`, so that WeasyPrint's
memory (hundreds of MB for a fleet) is returned to the system when it exits,
and so that many documents share one import of WeasyPrint. It imports nothing
of the auditor but this module's package. Each frame is an 8-byte big-endian
length and the bytes; a document is two frames, the HTML and the file to attach (empty: none); an
answer starting with ``FAILED:`` is an error message.
"""

from __future__ import annotations

import io
import logging
import re
import sys
from functools import lru_cache
from typing import IO, Any

ATTACHMENT_NAME = "results.json"
# tagged (structure tree, reading order, language, title): PDF/UA-1, so that screen readers can use it
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


def html_to_pdf(html: str, attachment: bytes | None = None) -> bytes:
    """Lay out ``html`` as a tagged PDF in this process (WeasyPrint needs pango: see scripts/system-deps).

    ``attachment``: the run's results.json, embedded so that an archived PDF carries its own
    machine-readable evidence.
    """
    return write_pdf(lay_out(html), attachment)


def lay_out(html: str) -> Any:  # a weasyprint.Document (WeasyPrint ships no type hints)
    """The laid-out WeasyPrint document (the slow part: the caller may prepare the attachment meanwhile)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # no type hints shipped

    _cache_page_references()
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    body, css = split_stylesheet(html)
    sheets = [_parsed_stylesheet(css)] if css is not None else []
    return HTML(string=body, base_url=None, url_fetcher=_no_fetching()).render(stylesheets=sheets, **PDF_OPTIONS)


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def split_stylesheet(html: str) -> tuple[str, str | None]:
    """The document without its one ``<style>`` in the head, and that stylesheet (None: keep the document whole).

    Every report, sheet and checklist of a run carries the same stylesheet; parsing it was about a
    third of laying out a one-tenant PDF. Given to WeasyPrint as a parsed stylesheet of its own it
    is parsed once per layout process (:func:`_parsed_stylesheet`) and cascades as before: it is
    then the only sheet besides the user agent's. A document with more than one ``<style>``, or one
    that declares fonts, counter styles or imports (state WeasyPrint keeps per document), is left whole;
    so is one with inline SVG (its width and height attributes are author declarations, which outrank
    a user sheet's ``height: auto``) or a sheet with ``!important`` (a user's outranks an author's).
    """
    found = list(_STYLE.finditer(html))
    body_starts = html.find("<body")
    if len(found) != 1 or body_starts < 0 or found[0].end() > body_starts:
        return html, None
    css = found[0].group(1)
    if any(at in css for at in ("@font-face", "@counter-style", "@import", "!important")) or "<svg" in html:
        return html, None
    return html[:found[0].start()] + html[found[0].end():], css


@lru_cache(maxsize=8)
def _parsed_stylesheet(css: str) -> Any:  # a weasyprint.CSS
    from weasyprint import CSS

    return CSS(string=css, url_fetcher=_no_fetching())


def write_pdf(document: Any, attachment: bytes | None) -> bytes:
    from weasyprint import Attachment

    files = [Attachment(file_obj=io.BytesIO(attachment), name=ATTACHMENT_NAME, relationship="Data",
                        description="the audit's results (schema plenigo-stripe-audit/1)")] if attachment else []
    pdf: bytes = document.write_pdf(attachments=files, **PDF_OPTIONS)
    return pdf


def _cache_page_references() -> None:
    """Make ``pydyf.PDF.page_references`` cheap: tagging asks for it once per tagged box.

    pydyf builds the tuple of every page's reference anew on each access; WeasyPrint's tagging
    reads it once per marked box, which at 1,000 tenants (137 pages, ~24,000 boxes) is 3 million
    strings and about 2 s of the layout. The cached tuple is rebuilt whenever a page is added.
    Only in this layout process; a pydyf without the property is left alone.
    """
    import pydyf  # type: ignore[import-untyped]  # no type hints shipped

    original = getattr(pydyf.PDF, "page_references", None)
    if not isinstance(original, property) or original.fget is None or getattr(original.fget, "cached", False):
        return
    build = original.fget

    def page_references(pdf: Any) -> tuple[Any, ...]:
        kids = len(pdf.pages["Kids"])
        cached = pdf.__dict__.get("_page_references_cache")
        if cached is None or cached[0] != kids:
            cached = pdf.__dict__["_page_references_cache"] = (kids, build(pdf))
        references: tuple[Any, ...] = cached[1]
        return references

    page_references.cached = True  # type: ignore[attr-defined]
    pydyf.PDF.page_references = property(page_references)


def _no_fetching() -> Any:
    """Reports are self-contained: a fetcher that loads only data: URIs, so untrusted text can never fetch a URL."""
    try:
        from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]  # newer WeasyPrint: a fetcher object
    except ImportError:
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if not url.startswith("data:"):
                raise ValueError(f"reports load no external resources ({url.split(':', 1)[0]}: refused)")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})


FRAME = 8  # bytes of a big-endian length before each document
FAILED = b"FAILED:"  # an answer that is an error message instead of a PDF


def read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(FRAME)
    if len(head) < FRAME:
        return None
    size = int.from_bytes(head, "big")
    data = stream.read(size)
    return data if len(data) == size else None  # cut short: the other side ended


def write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(FRAME, "big") + data)
    stream.flush()


def main() -> int:
    """Lay out framed HTML documents one after another until standard input ends."""
    import weasyprint  # noqa: F401  (about a second: done while the parent still builds the HTML)

    while (html := read_frame(sys.stdin.buffer)) is not None:
        try:
            document = lay_out(html.decode("utf-8"))  # while the parent encodes the attachment
        except Exception as exc:  # one document's failure is that document's answer
            document, pdf = None, FAILED + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
        attachment = read_frame(sys.stdin.buffer)
        if attachment is None:
            return 1  # cut short: the parent ended
        if document is not None:
            try:
                pdf = write_pdf(document, attachment or None)
            except Exception as exc:
                pdf = FAILED + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
        write_frame(sys.stdout.buffer, pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
