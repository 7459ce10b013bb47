"""Peak memory and time of the commands that read a saved fleet run: `audit report` per format, `audit diff`.

Writes a synthetic run of N tenants (tests/render/synthetic.py: about 70% of records pass, the others fail
in the usual ways) as results.json, and a second one with some findings fixed and others new, then runs
each command as a user would (a child process) and prints its wall time and peak resident memory
(``os.wait4``'s ``ru_maxrss``: the child's own, a PDF layout grandchild not included). With
``--baseline-code DIR`` each command also runs with another checkout's code on ``PYTHONPATH``
(``rules/`` and ``report_templates/`` linked inside its ``auditor/``), right after, for a ratio in one run.

    .venv/bin/python benchmarks/saved_run_bench.py --tenants 10000 --formats json table junit prometheus html
    .venv/bin/python benchmarks/saved_run_bench.py --tenants 2000 --baseline-code /work/base
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.atomic import write_bytes_atomic  # noqa: E402
from auditor.render import RenderOptions  # noqa: E402
from auditor.render.json import JsonRenderer  # noqa: E402
from auditor.results import CheckStatus, RecordResult  # noqa: E402
from tests.render.synthetic import fleet  # noqa: E402

ENTRY = "import sys\nfrom auditor.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def write_runs(folder: Path, tenants: int) -> tuple[Path, Path]:
    """results.json of N tenants, and an earlier run of the same fleet in which other findings failed."""
    current = fleet(tenants, seed=7)
    earlier = current.model_copy(update={"records": [_flipped(r, n) for n, r in enumerate(current.records)]})
    paths = []
    for name, run in (("earlier.json", earlier), ("results.json", current)):
        paths.append(write_bytes_atomic(folder / name, JsonRenderer().chunks(run, RenderOptions())))
    return paths[0], paths[1]


def _flipped(record: RecordResult, n: int) -> RecordResult:
    """Every seventh record with its first passing check failing and its failures passing: news both ways."""
    if n % 7:
        return record
    flip = {CheckStatus.PASS: CheckStatus.FAIL, CheckStatus.FAIL: CheckStatus.PASS}
    checks = [c.model_copy(update={"status": flip.get(c.status, c.status)}) for c in record.checks]
    return record.model_copy(update={"checks": checks, "status": record.status_of(checks)})


def measure(argv: list[str], code: Path) -> tuple[float, float, int]:
    """Wall seconds, peak MB and exit code of ``audit ARGV`` run with ``code`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, *argv], cwd=code, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    assert proc.stderr is not None
    errors = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit {' '.join(argv)} failed ({proc.returncode}): {errors[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10000)
    parser.add_argument("--formats", nargs="+", default=["json", "table", "junit", "prometheus"])
    parser.add_argument("--baseline-code", type=Path, default=None)
    parser.add_argument("--write-to", type=Path, default=None, help=argparse.SUPPRESS)  # the child that writes
    args = parser.parse_args()
    if args.write_to:
        write_runs(args.write_to, args.tenants)
        return
    codes = [ROOT] + ([args.baseline_code.resolve()] if args.baseline_code else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # written by a child: a process that had held the synthetic fleet (over 1 GB) would hand its high-water
        # mark to every command it starts (ru_maxrss counts the pages a fork maps, and survives the exec)
        subprocess.run([sys.executable, __file__, "--tenants", str(args.tenants), "--write-to", str(folder)],
                       check=True)
        earlier, results = folder / "earlier.json", folder / "results.json"
        size = results.stat().st_size / 2**20
        print(f"{args.tenants} tenants: results.json {size:.0f} MB; load average {os.getloadavg()[0]:.1f}")
        print(f"{'command':34} " + " ".join(f"{'wall s':>7} {'peak MB':>8}" for _ in codes)
              + ("   code: this, baseline" if len(codes) > 1 else ""))
        commands = [(f"report --format {name}", ["report", str(results), "--format", name, "--output",
                                                  str(folder / "out")]) for name in args.formats]
        commands.append(("report --format json --previous", ["report", str(results), "--format", "json",
                                                             "--previous", str(earlier), "--output",
                                                             str(folder / "out")]))
        commands.append(("diff earlier results", ["diff", str(earlier), str(results), "--format", "json"]))
        for label, argv in commands:
            figures = [measure(argv, code) for code in codes]
            print(f"{label:34} " + " ".join(f"{s:>7.1f} {mb:>8.0f}" for s, mb, _ in figures), flush=True)


if __name__ == "__main__":
    main()
