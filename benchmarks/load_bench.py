"""Loading a large tenant file whose secrets are in files (four per tenant), as `audit run` does first.

    .venv/bin/python benchmarks/load_bench.py --tenants 10000 --repeat 3

Prints the median wall and CPU time (CPU time varies less on a shared machine) of `load_tenants` over fresh
interpreters (tomllib, validation, reading and registering 40,000 secret files), and tomllib's share alone
for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.fleet import build_fleet  # noqa: E402

MEASURE = ("import sys, time, tomllib\n"
           "from pathlib import Path\n"
           "from auditor.config import load_tenants\n"
           "path = Path(sys.argv[1])\n"
           "start = time.perf_counter(); tomllib.loads(path.read_text()); toml = time.perf_counter() - start\n"
           "start, cpu = time.perf_counter(), time.process_time(); load_tenants(path)\n"
           "print(time.perf_counter() - start, toml, time.process_time() - cpu)\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, _, _ = build_fleet(Path(tmp) / "fleet", args.tenants)
        runs = [tuple(map(float, subprocess.run([sys.executable, "-c", MEASURE, str(config)], cwd=ROOT, check=True,
                                                capture_output=True, text=True).stdout.split()))
                for _ in range(args.repeat)]
    load, toml, cpu = (statistics.median(r[n] for r in runs) for n in range(3))
    print(f"loading {args.tenants} tenants, {4 * args.tenants} secret files: {load:.2f} s wall, {cpu:.2f} s CPU "
          f"(median of {args.repeat}; tomllib alone {toml:.2f} s wall)")


if __name__ == "__main__":
    main()
