"""Loading a large tenant file whose secrets are in files (four per tenant), as `audit run` does first.

    .venv/bin/python benchmarks/load_bench.py --tenants 10000 --repeat 3 --compare-whole [--compare-tomllib]

Prints the median wall and CPU time (CPU time varies less on a shared machine) of `load_tenants` over fresh
interpreters (reading the TOML, validation, reading and registering 40,000 secret files), and the time of
tomllib and of the fast reader (auditor/tenant_toml.py) alone for comparison; with --compare-tomllib, also the
load with the fast reader off (tomllib reads everything), in the same run.
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
           "import auditor.tenant_toml as tenant_toml\n"
           "if sys.argv[2].startswith('whole'): config.PARALLEL_FROM = 10**12\n"
           "path = Path(sys.argv[1])\n"
           "start = time.perf_counter(); tomllib.loads(path.read_text()); toml = time.perf_counter() - start\n"
           "start = time.perf_counter(); tenant_toml.loads(path.read_text()); fast = time.perf_counter() - start\n"
           "if sys.argv[2].endswith('tomllib'): tenant_toml.loads = lambda text: None  # tomllib reads everything\n"
           "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "start, cpu = time.perf_counter(), time.process_time(); config.load_tenants(path)\n"
           "wall, cpu = time.perf_counter() - start, time.process_time() - cpu\n"
           "after = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "print(wall, toml, cpu, after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime, fast)\n")


def measure(config: Path, how: str, repeat: int) -> tuple[float, ...]:
    """Median wall, tomllib alone, CPU of the loading process, CPU of its forked children, the fast reader alone
    (seconds)."""
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", MEASURE, str(config), how], cwd=ROOT, check=True,
                                            capture_output=True, text=True).stdout.split()))
            for _ in range(repeat)]
    return tuple(statistics.median(r[n] for r in runs) for n in range(5))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare-whole", action="store_true",
                        help="also load the file whole in one process (as before it was cut into parts)")
    parser.add_argument("--compare-tomllib", action="store_true",
                        help="also load with the fast reader off: tomllib reads everything (as before "
                             "auditor/tenant_toml.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, _, _ = build_fleet(Path(tmp) / "fleet", args.tenants)
        for how in ["parts", "whole"] if args.compare_whole else ["parts"]:
            readers = [("", how), (", tomllib only", f"{how}-tomllib")] if args.compare_tomllib else [("", how)]
            for reader, mode in readers:
                load, toml, cpu, children, fast = measure(config, mode, args.repeat)
                print(f"loading {args.tenants} tenants, {4 * args.tenants} secret files ({how}{reader}): "
                      f"{load:.2f} s wall, CPU {cpu:.2f} s in the loading process + {children:.2f} s in its forked "
                      f"children (median of {args.repeat}; tomllib alone {toml:.2f} s wall, the fast reader alone "
                      f"{fast:.2f} s; load average {os.getloadavg()[0]:.1f})", flush=True)

if __name__ == "__main__":
    main()
