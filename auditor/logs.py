"""Logging on standard error, with every line scrubbed of secrets (also the stripe SDK's)."""

from __future__ import annotations

import logging

from auditor.redact import scrub


class ScrubbingFormatter(logging.Formatter):
    """Formats as usual, then masks anything secret, including in tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(verbosity: int, log_format: str = "text") -> None:
    """Log to standard error; the stripe SDK and urllib3 only at -vv (thousands of lines that name no tenant)."""
    from auditor.logcontext import JsonFormatter, RecordContextFilter

    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.addFilter(RecordContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else ScrubbingFormatter(
        "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old.formatter, (ScrubbingFormatter, JsonFormatter)):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("stripe", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
