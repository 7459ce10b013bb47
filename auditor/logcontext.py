"""Which tenant and environment a log line is about (the JSON lines for log shippers are in auditor.logs).

The audit of a record sets the context (a contextvar, so every thread and
forked worker has its own); a logging filter copies it onto every record
logged meanwhile, the stripe SDK's included, so a line can always be traced to
its tenant.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

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
