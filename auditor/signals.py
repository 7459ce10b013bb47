"""Stop requests by signal (SIGTERM, SIGHUP) end a run the way Ctrl-C does.

cron, systemd and Kubernetes stop a job with SIGTERM (a closed terminal sends
SIGHUP), to the parent process only. Their default action would end the
parent at once: its forked workers would be orphaned and keep asking Stripe,
and its temporary files would stay. Raised as an exception instead, the stop
runs the same clean-up as Ctrl-C: workers are stopped, nothing half-written is
left, and the exit code is 128 + the signal's number (SIGTERM 143, SIGHUP 129).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """A stop request by signal: a KeyboardInterrupt, so that every clean-up written for Ctrl-C runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def exit_code(interrupt: BaseException) -> int:
    """128 + the signal's number, the shell's convention: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` in the main thread while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise(signum: int, frame: FrameType | None) -> None:
    for other in STOP_SIGNALS:  # one stop is enough: a repeated signal must not interrupt the clean-up
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)
