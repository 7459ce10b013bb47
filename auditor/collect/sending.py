"""Who wants to know that a request is about to leave (the checklist's prefetch: auditor.collect.prefetch).

A context variable, so that only the reads of the record that asked are heard
(the helper threads run a record's reads in a copy of its context), and the
transport pays one ``ContextVar.get`` per request when nobody listens.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

SENDING: ContextVar[Callable[[], None] | None] = ContextVar("sending", default=None)


def note_sending() -> None:
    """Tell the listener of this context, if any, that a request is about to be sent."""
    listener = SENDING.get()
    if listener is not None:
        listener()
