"""Start-up imports without the cyclic garbage collector.

Importing pydantic models, the stripe SDK and requests creates hundreds of
thousands of objects and no garbage; every collection the allocations trigger
meanwhile is wasted work (about 25 ms of `audit checklist`'s 0.4 s start-up,
measured in benchmarks/README.md). The collector is off only while a module is
imported, never while tenants are audited.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def importing() -> Iterator[None]:
    """Run the block with the collector off (left as it was if someone else turned it off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
