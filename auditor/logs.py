"""Logging on standard error, with every line scrubbed of secrets (also the stripe SDK's)."""

from __future__ import annotations

import logging

from auditor.redact import scrub


class ScrubbingFormatter(logging.Formatter):
    """Formats as usual, then masks anything secret, including in tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, ScrubbingFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("stripe").setLevel(level)
