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
    return HTML(string=html, base_url=None).write_pdf()


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
