"""Loading a large tenant file whose secrets are in files (four per tenant), as `audit run` does first.

    .venv/bin/python benchmarks/load_bench.py --tenants 10000 --repeat 3 --compare-whole

Prints the median wall and CPU time (CPU time varies less on a shared machine) of `load_tenants` over fresh
interpreters (tomllib, validation, reading and registering 40,000 secret files), and tomllib's share alone
for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.fleet import build_fleet  # noqa: E402

MEASURE = ("import resource, sys, time, tomllib\n"
           "from pathlib import Path\n"
           "import auditor.config as config\n"
           "if sys.argv[2] == 'whole': config.PARALLEL_FROM = 10**12\n"
           "path = Path(sys.argv[1])\n"
           "start = time.perf_counter(); tomllib.loads(path.read_text()); toml = time.perf_counter() - start\n"
           "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "start, cpu = time.perf_counter(), time.process_time(); config.load_tenants(path)\n"
           "wall, cpu = time.perf_counter() - start, time.process_time() - cpu\n"
           "after = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "print(wall, toml, cpu, after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime)\n")


def measure(config: Path, how: str, repeat: int) -> tuple[float, ...]:
    """Median wall, tomllib alone, CPU of the loading process, CPU of its forked children (seconds)."""
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", MEASURE, str(config), how], cwd=ROOT, check=True,
                                            capture_output=True, text=True).stdout.split()))
            for _ in range(repeat)]
    return tuple(statistics.median(r[n] for r in runs) for n in range(4))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-whole", action="store_true",
                        help="also load the file whole in one process (as before it was cut into parts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, _, _ = build_fleet(Path(tmp) / "fleet", args.tenants)
        for how in ["parts", "whole"] if args.compare_whole else ["parts"]:
            load, toml, cpu, children = measure(config, how, args.repeat)
            print(f"loading {args.tenants} tenants, {4 * args.tenants} secret files ({how}): {load:.2f} s wall, "
                  f"CPU {cpu:.2f} s in the loading process + {children:.2f} s in its forked children "
                  f"(median of {args.repeat}; tomllib alone {toml:.2f} s wall; load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)

if __name__ == "__main__":
    main()
