"""Which tenant and environment a log line is about, and log lines as JSON for log shippers.

The audit of a record sets the context (a contextvar, so every thread and
forked worker has its own); a logging filter copies it onto every record
logged meanwhile, the stripe SDK's included, so a line can always be traced to
its tenant.
"""

from __future__ import annotations

import contextvars
import json
import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from auditor.redact import scrub

_CURRENT: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("audit_record", default=None)


@contextmanager
def record_context(company_id: str, environment: str) -> Iterator[None]:
    """Log lines inside the block carry this tenant's company ID and environment."""
    token = _CURRENT.set((company_id, environment))
    try:
        yield
    finally:
        _CURRENT.reset(token)


class RecordContextFilter(logging.Filter):
    """Copies the current tenant and environment onto each log record (``None`` outside an audit)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _CURRENT.get()
        record.company_id, record.environment = current if current else (None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, company_id, environment; scrubbed of secrets."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "company_id": getattr(record, "company_id", None),
            "environment": getattr(record, "environment", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, ensure_ascii=False))
