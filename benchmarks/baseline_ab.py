"""This code against another checkout's, alternated in one run: the checklist a person waits for, and loading.

    .venv/bin/python benchmarks/baseline_ab.py --baseline-code /work/today checklist --repeat 7
    .venv/bin/python benchmarks/baseline_ab.py --baseline-code /work/today load --tenants 10000 --repeat 5

The other checkout (say ``git worktree add /work/today 99cdd1d``, the code of the day issue 13 was filed) needs
``rules/`` and ``report_templates/`` linked inside its ``auditor/`` as the package installs them
(``ln -s ../rules auditor/rules; ln -s ../report_templates auditor/report_templates``). Each measurement runs
in a fresh interpreter with ``PYTHONPATH`` set to the checkout, the two codes one after the other, so machine
load weighs on both alike; medians are printed with every run.

``checklist``: ``audit checklist`` for one tenant against tests/stub_stripe.py answering after ``--latency``
seconds (wall and CPU of the whole command). ``load``: ``load_tenants`` of N tenants whose four secrets each
are in files (wall, CPU of the loading process and of its forked children).
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

from benchmarks.fleet_bench import start_stub  # noqa: E402
from tests.faults.fleet import build_fleet, company_id  # noqa: E402

PY = sys.executable
LOAD = ("import resource, sys, time\n"
        "from pathlib import Path\n"
        "import auditor.config as config\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "start, cpu = time.perf_counter(), time.process_time(); config.load_tenants(Path(sys.argv[1]))\n"
        "wall, cpu = time.perf_counter() - start, time.process_time() - cpu\n"
        "after = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(wall, cpu, after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime)\n")


def run_in(code: Path, args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (the process and its children) of ``python args`` with ``code`` first on the path."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([PY, *args], cwd=code, env={**os.environ, "PYTHONPATH": str(code)}, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode not in (0, 1):  # 1: NOT READY is a verdict, not a failure
        raise SystemExit(f"{code}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return wall, cpu, done.stdout


def checklist(codes: list[Path], repeat: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config, world, _ = build_fleet(Path(tmp) / "fleet", 1)
        stub, url = start_stub(world, latency, Path(tmp))
        try:
            args = ["-m", "auditor", "checklist", "--tenant", company_id(0), "--env", "live", "--config", str(config),
                    "--stripe-api-base", url]
            for code in codes:
                run_in(code, args)  # the file cache warm, the bytecode compiled
            runs: dict[Path, list[tuple[float, float, str]]] = {code: [] for code in codes}
            for _ in range(repeat):
                for code in codes:
                    runs[code].append(run_in(code, args))
        finally:
            stub.terminate()
            stub.wait()
    for code, measured in runs.items():
        print(f"audit checklist, {latency * 1000:.0f} ms a request, code of {code}: "
              f"{statistics.median(m[0] for m in measured):.2f} s wall, "
              f"{statistics.median(m[1] for m in measured):.2f} s CPU (median of {repeat}; "
              f"{', '.join(f'{m[0]:.2f}' for m in measured)})")


def load(codes: list[Path], repeat: int, tenants: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config, _, _ = build_fleet(Path(tmp) / "fleet", tenants)
        runs: dict[Path, list[list[float]]] = {code: [] for code in codes}
        for _ in range(repeat):
            for code in codes:
                runs[code].append([float(x) for x in run_in(code, ["-c", LOAD, str(config)])[2].split()])
    for code, measured in runs.items():
        print(f"loading {tenants} tenants, {4 * tenants} secret files, code of {code}: "
              f"{statistics.median(m[0] for m in measured):.2f} s wall, CPU "
              f"{statistics.median(m[1] for m in measured):.2f} s + {statistics.median(m[2] for m in measured):.2f} s "
              f"in forked parts (median of {repeat}; {', '.join(f'{m[0]:.2f}' for m in measured)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-code", type=Path, required=True)
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("checklist")
    one.add_argument("--repeat", type=int, default=7)
    one.add_argument("--latency", type=float, default=0.3)
    many = sub.add_parser("load")
    many.add_argument("--repeat", type=int, default=5)
    many.add_argument("--tenants", type=int, default=10_000)
    args = parser.parse_args()
    codes = [ROOT, args.baseline_code.resolve()]
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.what == "checklist":
        checklist(codes, args.repeat, args.latency)
    else:
        load(codes, args.repeat, args.tenants)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
