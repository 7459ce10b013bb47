"""The PDF layout process: HTML on standard input, the PDF on standard output.

    python -m auditor.render.pdf_child < report.html > report.pdf

Started by :func:`auditor.render.pdf.html_to_pdf_isolated`, so that WeasyPrint's
memory (hundreds of MB for a fleet) is returned to the system when it exits. It
imports nothing of the auditor but this module's package.
"""

from __future__ import annotations

import logging
import sys


def html_to_pdf(html: str) -> bytes:
    """Lay out ``html`` as a PDF in this process (WeasyPrint needs pango: see scripts/system-deps)."""
    from weasyprint import HTML

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return HTML(string=html, base_url=None, url_fetcher=_no_fetching()).write_pdf()


def _no_fetching():
    """Reports are self-contained: a fetcher that loads only data: URIs, so untrusted text can never fetch a URL."""
    try:
        from weasyprint.urls import URLFetcher  # newer WeasyPrint: a fetcher object
    except ImportError:
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"reports load no external resources ({url.split(':', 1)[0]}: refused)")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})


def main() -> int:
    import weasyprint  # noqa: F401  (about a second: done while the parent still builds the HTML)

    html = sys.stdin.buffer.read().decode("utf-8")
    if not html:
        return 0  # asked to start and stop: nothing to lay out
    sys.stdout.buffer.write(html_to_pdf(html))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
