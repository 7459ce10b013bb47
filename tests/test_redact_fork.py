"""A forked child registers secrets whatever another thread of its parent was doing at the fork.

``audit checklist`` on a large tenant file starts the tenant's Stripe reads on a
thread (auditor.collect.prefetch) and then loads the whole file, forking a child
per core (auditor.config._load_in_parts) whose tenants register their secrets.
The reading thread scrubs Stripe's answers and its log lines, holding
``auditor.redact``'s lock for a moment each time: a fork at such a moment gave the
child a lock that no thread of it would ever release, and the load waited for
that child for ever.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.faults.fleet import build_fleet

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = 300  # seconds: only a child stuck on the lock reaches it

# The lock is held by another thread exactly while the children are forked, then released.
FORK_WHILE_SCRUBBING = """
import os, sys, threading
from auditor import config, redact

config.PARALLEL_FROM = 0  # a small file loaded in parts, as a large one is
config._cores = lambda: 3
forked, held = threading.Event(), threading.Event()
os.register_at_fork(after_in_parent=forked.set)

def scrubbing():  # as the prefetch thread does while the whole file is loaded
    with redact._lock:
        held.set()
        forked.wait()

threading.Thread(target=scrubbing, daemon=True).start()
held.wait()
tenants = config.load_tenants(sys.argv[1])
print(len(tenants), forked.is_set())
"""


def test_a_part_of_the_tenant_file_loads_in_a_child_forked_while_a_thread_scrubs(tmp_path) -> None:
    tenant_file, _, _ = build_fleet(tmp_path / "fleet", 12)
    done = subprocess.run([sys.executable, "-c", FORK_WHILE_SCRUBBING, str(tenant_file)], capture_output=True,
                          text=True, timeout=HANG_GUARD, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["12", "True"]  # every tenant, and the file was loaded in forked parts
