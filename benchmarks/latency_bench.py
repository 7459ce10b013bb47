"""What a person waits for: `audit --help`, and `audit checklist` for one tenant against a slow Stripe.

Each command runs as a user runs it (a child process, start-up included), several times; the
median is printed. The checklist runs against tests/stub_stripe.py in its own process with
300 ms latency per request, once with the record's three reads at once (the default) and once
one after the other (the collector patched to read sequentially, as before), back to back in
the same run, so the ratio holds on a loaded machine.

    .venv/bin/python benchmarks/latency_bench.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.fleet_bench import ENV, PY, start_stub  # noqa: E402
from tests.faults.fleet import build_fleet, company_id  # noqa: E402

SEQUENTIAL = ("import sys, auditor.collect.stripe_api as s\n"
              "read_all = s.StripeSource._read_all\n"
              "def one_by_one(self, *args):\n"
              "    self.parallel_reads = False\n"
              "    return read_all(self, *args)\n"
              "s.StripeSource._read_all = one_by_one\n"
              "from auditor.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")


EAGER = ("import sys\n"  # the start-up before lazy subcommands: every command module imported up front
         "import auditor.commands.run, auditor.commands.rules, auditor.commands.report, auditor.commands.checklist\n"
         "import auditor.commands.diff, auditor.commands.schema, auditor.commands.onboard\n"
         "from auditor.cli import main\n"
         "sys.exit(main(sys.argv[1:]))\n")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_seconds(cmd: list[str], repeat: int, cpu: list[float] | None = None) -> float:
    """Median wall seconds of ``repeat`` runs; the median CPU seconds are appended to ``cpu`` if given."""
    times, used = [], []
    for _ in range(repeat):
        start, before = time.perf_counter(), cpu_seconds()
        subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        used.append(cpu_seconds() - before)
    if cpu is not None:
        cpu.append(statistics.median(used))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    cpu: list[float] = []
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    lazy = median_seconds([PY, "-m", "auditor", "--help"], args.repeat, cpu)
    eager = median_seconds([PY, "-c", EAGER, "--help"], args.repeat, cpu)
    bare = median_seconds([PY, "-c", "pass"], args.repeat, cpu)
    print(f"audit --help (median of {args.repeat}): {lazy:.3f} s wall / {cpu[0]:.3f} s CPU; with every command "
          f"imported up front (before) {eager:.3f} s / {cpu[1]:.3f} s CPU; "
          f"python -c pass {bare:.3f} s / {cpu[2]:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        config, world, _ = build_fleet(Path(tmp) / "fleet", 1)
        stub, url = start_stub(world, args.latency, Path(tmp))
        try:
            checklist = ["checklist", "--tenant", company_id(0), "--env", "live", "--config", str(config),
                         "--stripe-api-base", url]
            median_seconds([PY, "-m", "auditor", *checklist], 1)  # warm the file cache
            parallel = median_seconds([PY, "-m", "auditor", *checklist], args.repeat, cpu)
            sequential = median_seconds([PY, "-c", SEQUENTIAL, *checklist], args.repeat)
            reads = {mode: collect_seconds(config, url, mode, args.repeat) for mode in (True, False)}
        finally:
            stub.terminate()
            stub.wait()
    print(f"audit checklist, one tenant, {args.latency * 1000:.0f} ms per request: reads at once {parallel:.2f} s "
          f"({cpu[3]:.2f} s CPU), "
          f"one after the other {sequential:.2f} s (x{sequential / parallel:.2f}); "
          f"one round trip + start-up would be {args.latency:.2f} s + start-up")
    print(f"the record's reads alone (StripeSource.collect in-process, median): at once {reads[True]:.2f} s, "
          f"one after the other {reads[False]:.2f} s (x{reads[False] / reads[True]:.2f})")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def collect_seconds(config: Path, url: str, parallel: bool, repeat: int) -> float:
    """Wall seconds of collecting one live record, in this process (no start-up), median of ``repeat``."""
    from auditor.collect.stripe_api import StripeSource
    from auditor.config import Environment, load_tenants

    tenant = load_tenants(config)[0]
    source = StripeSource(api_base=url, parallel_reads=parallel)
    source.collect(tenant, tenant.record(Environment.LIVE))  # connections opened, imports done
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        source.collect(tenant, tenant.record(Environment.LIVE))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()
