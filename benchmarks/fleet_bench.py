"""The fleet audit at scale against a Stripe-compatible stub with latency on loopback.

Starts tests/stub_stripe.py in its own process (so the stub and the auditor do
not share a GIL), generates N synthetic tenants, and measures `audit run
--all-tenants` as a user runs it: wall time, requests per second, peak memory.
Ratios are measured in the same run: against the ideal bound (requests x
latency / workers) and against a naive sequential stripe-SDK script
(benchmarks/naive_audit.py) on a baseline subset, and the results are compared
with a --workers 1 run of that subset.

Peak memory is the process tree's: the auditor and its forked workers, their
resident sizes summed, sampled from /proc every 20 ms (and, for comparison, the
auditor's own peak from getrusage). ``--compare-unspooled`` runs each fleet a
second time, back to back, with every result held in a list as before
auditor.spool (the plan patched in a wrapper, nothing else changed).

    .venv/bin/python benchmarks/fleet_bench.py --tenants 500 2000 10000 --baseline-tenants 10 --workers 64 \
        --latency 0.1 --formats json,table

``--baseline-code DIR`` also audits each fleet with the code of another checkout (say a git worktree of an
earlier commit, with ``ln -s ../rules auditor/rules`` and ``ln -s ../report_templates auditor/report_templates``
inside it, as the package installs them), right after, against the same stub: a ratio in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.config import load_tenants  # noqa: E402
from tests.faults.fleet import build_fleet  # noqa: E402

PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stub(world: dict, latency: float, workdir: Path) -> tuple[subprocess.Popen, str]:
    world_file = workdir / "world.json"
    world_file.write_text(json.dumps(world))
    port = free_port()
    proc = subprocess.Popen([PY, "-m", "tests.stub_stripe", "--world", str(world_file), "--port", str(port),
                             "--latency", str(latency)], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the stub did not start")


UNSPOOLED = ("import dataclasses, sys, auditor.audit as a\n"
             "run_audit = a.run_audit\n"
             "a.run_audit = lambda plan, *args, **kw: run_audit(dataclasses.replace(plan, spool_above=10**9),\n"
             "                                                  *args, **kw)\n"
             "from auditor.cli import main\n"
             "sys.exit(main(sys.argv[1:]))\n")


def tree_pids(root: int) -> set[int]:
    """A process and all its descendants, from the kernel's list of each thread's children (Linux /proc).

    Cheaper than reading every process's stat (which the sampler did 50 times a second, a tenth of a core
    taken from the run it measured).
    """
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo += [int(child) for child in f.read().split() if int(child) not in tree]
            except OSError:
                continue
    return tree


def _status_kb(pid: int, *fields: str) -> list[int]:
    """Fields of /proc/PID/status in kB (VmRSS: resident now, VmHWM: the process's own peak), 0 when gone."""
    values = dict.fromkeys(fields, 0)
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name = line.split(":", 1)[0]
                if name in values:
                    values[name] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return [values[name] for name in fields]


def tree_pss_mb(root: int) -> float:
    """Proportional memory of a process and its descendants, summed, in MB (Linux smaps_rollup).

    RSS counts a page shared by a forked worker and the auditor (copy-on-write) once in each;
    PSS splits it between them, so the sum is the memory the tree really occupies.
    """
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except OSError:
            continue
    return total / 1024


LAST_PSS = [0.0]
LAST_HWM = [0.0]
SAMPLE_EVERY = 0.1  # seconds; PSS (the kernel walks every page for it) every tenth sample


def timed(cmd: list[str], code: Path = ROOT) -> tuple[float, float, float, int]:
    """Wall seconds, the process tree's peak summed RSS (MB), the auditor's own peak RSS (MB) and its exit code.

    Also kept: the tree's peak summed PSS (``LAST_PSS``) and the sum of every process's own peak RSS
    (``LAST_HWM``, each process's VmHWM as last read: an upper bound of the tree's peak, whatever the
    sampling missed between two samples).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=code, env={**ENV, "PYTHONPATH": str(code)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    peak = [0.0, 0.0]
    hwm: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        n = 0
        while not done.wait(SAMPLE_EVERY):
            rss = 0
            for pid in tree_pids(proc.pid):
                now, high = _status_kb(pid, "VmRSS", "VmHWM")
                rss += now
                hwm[pid] = max(hwm.get(pid, 0), high)
            peak[0] = max(peak[0], rss / 1024)
            n += 1
            if n % 10 == 0:
                peak[1] = max(peak[1], tree_pss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    LAST_PSS[0] = peak[1]
    hwm[proc.pid] = max(hwm.get(proc.pid, 0), usage.ru_maxrss)  # the auditor's own peak, from the kernel at exit
    LAST_HWM[0] = sum(hwm.values()) / 1024
    return time.perf_counter() - start, peak[0], usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def audit(config: Path, url: str, workers: int, out: Path, formats: str = "json",
          unspooled: bool = False, code: Path = ROOT) -> tuple[float, float, float, dict]:
    head = [PY, "-c", UNSPOOLED] if unspooled else [PY, "-m", "auditor"]
    seconds, tree, own, exit_code = timed([*head, "run", "--all-tenants", "--config", str(config),
                                           "--stripe-api-base", url, "--workers", str(workers), "--format", formats,
                                           "--output", str(out), "--quiet"], code)
    assert exit_code == 0, f"audit exited {exit_code}"
    return seconds, tree, own, json.loads((out / "results.json").read_text())


def verdicts(results: dict) -> list:
    return [(r["company_id"], r["environment"], r["status"], [(c["rule"], c["status"]) for c in r["checks"]])
            for r in results["records"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--formats", default="json,table")
    parser.add_argument("--compare-unspooled", action="store_true")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--baseline-code", type=Path, default=None,
                        help="a checkout of earlier code (rules/ and report_templates/ linked inside its auditor/, "
                             "as installed): each fleet is also audited by it, right after, against the same stub")
    parser.add_argument("--baseline-tenants", type=int, default=100,
                        help="tenants for the naive script and the --workers 1 run (both sequential)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        biggest = max(args.tenants + [args.baseline_tenants])
        config, world, _ = build_fleet(work / "fleet", biggest)
        stub, url = start_stub(world, args.latency, work)
        try:
            report(args, work, config, url)
        finally:
            stub.terminate()
            stub.wait()


def subset(config: Path, n: int, work: Path) -> Path:
    """The first n tenants of the fleet file, as a file of its own (secrets stay where they are)."""
    text = config.read_text().split("[[tenants]]")
    path = config.parent / f"tenants-{n}.toml"
    path.write_text("[[tenants]]".join(text[: n + 1]))
    return path


def report(args: argparse.Namespace, work: Path, config: Path, url: str) -> None:
    start = time.perf_counter()
    load_tenants(config)
    print(f"loading {max(args.tenants + [args.baseline_tenants])} tenants: {time.perf_counter() - start:.2f} s")

    base_config = subset(config, args.baseline_tenants, work)
    naive_s, _, _, code = timed([PY, str(ROOT / "benchmarks" / "naive_audit.py"), str(base_config), url])
    assert code == 0, "naive script failed"
    seq_s, _, _, seq_results = audit(base_config, url, 1, work / "seq")
    par_s, _, _, par_results = audit(base_config, url, args.workers, work / "par")
    naive_per_record = naive_s / (2 * args.baseline_tenants)
    print(f"baseline {args.baseline_tenants} tenants: naive script {naive_s:.1f} s, auditor --workers 1 "
          f"{seq_s:.1f} s, --workers {args.workers} {par_s:.1f} s; results identical to --workers 1: "
          f"{verdicts(seq_results) == verdicts(par_results)}")
    print()
    print(f"{'tenants':>7} {'records':>7} {'requests':>8} {'wall s':>7} {'req/s':>6} {'ideal s':>7} "
          f"{'x ideal':>7} {'x faster than naive':>19} {'tree peak MB':>12} {'sum of peaks MB':>15} "
          f"{'tree PSS MB':>11} {'auditor MB':>10}  "
          f"variant (load average {os.getloadavg()[0]:.1f})")
    for n in args.tenants:
        cfg = subset(config, n, work)
        variants = [(False, ROOT)] + ([(True, ROOT)] if args.compare_unspooled else []) + \
            ([(False, args.baseline_code.resolve())] if args.baseline_code else [])
        for unspooled, code in variants:
            seconds, tree, own, results = audit(cfg, url, args.workers, work / f"run-{n}-{unspooled}-{code.name}",
                                                args.formats, unspooled, code)
            records = len(results["records"])
            requests = sum(r["evidence"]["requests_made"] for r in results["records"])
            ideal = requests * args.latency / args.workers
            speedup = naive_per_record * records / seconds
            print(f"{n:>7} {records:>7} {requests:>8} {seconds:>7.1f} {requests / seconds:>6.0f} {ideal:>7.1f} "
                  f"{seconds / ideal:>7.2f} {speedup:>19.1f} {tree:>12.0f} {LAST_HWM[0]:>15.0f} {LAST_PSS[0]:>11.0f} "
                  f"{own:>10.0f}  "
                  f"{'results held in a list (before)' if unspooled else 'spooled'}"
                  f"{'' if code == ROOT else f', code of {code}'} (load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
