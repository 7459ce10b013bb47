"""Start-up and exit without needless garbage collection (a person waits for `audit checklist`).

Importing pydantic models, the stripe SDK and requests creates hundreds of
thousands of objects and no garbage; every collection the allocations trigger
meanwhile is wasted work (about 25 ms of the checklist's start-up). The
collector is off while a module is imported and during a checklist (one
record: what it allocates is bounded), never while a fleet is audited.
At exit, the interpreter's last full collection walks every one of those
objects again to free memory the operating system takes back anyway (about
0.1 s): :func:`exiting` spares it. Figures in benchmarks/README.md.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_off() -> Iterator[None]:
    """Run the block with the collector off (left as it was if someone else turned it off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def exiting() -> None:
    """Leave what exists now out of the interpreter's final collection; call it only just before exit.

    Memory is still freed by reference counting and atexit handlers still run;
    only garbage in reference cycles is left to the operating system.
    """
    gc.freeze()
