"""Peak memory of writing results.csv and junit.xml and of ``compare`` over spooled fleet runs, now and at a commit.

Each measurement runs in a fresh interpreter. It makes a synthetic fleet of N
tenants (tests/render/synthetic.py's mix, two records each, about 5% stage only)
a record at a time into a :class:`~auditor.spool.RecordSpool`, as a fleet run
keeps its results, so the fleet is never held. Then it hands the allocator's
free pages back, resets the process's peak resident size (``/proc/self/clear_refs``)
and does one thing: write results.csv or junit.xml as ``write_reports`` does
(``chunks`` when the renderer has them, else ``render``), or compare two such
runs (the second drawn with another seed: other kinds for the same tenants).
It prints the resident size before, the peak during (VmHWM), their difference,
the CPU seconds, and the output's size and digest (the same for both codes when
the output is).

``--old COMMIT`` measures the same with auditor/render/spreadsheet.py,
auditor/render/junit.py and auditor/changes.py as they were at COMMIT (read with
``git show`` into modules of their own; everything else is this checkout's).

    .venv/bin/python benchmarks/stream_memory_bench.py --tenants 5000 --old 5ec6c3d
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import importlib
import json
import random
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCES = {"csv": "auditor/render/spreadsheet.py", "junit": "auditor/render/junit.py", "compare": "auditor/changes.py"}
MODULES = {"csv": "auditor.render.spreadsheet", "junit": "auditor.render.junit", "compare": "auditor.changes"}


def _status(field: str) -> int:
    """A field of /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _module(what: str, old: str | None) -> types.ModuleType:
    if old is None:
        return importlib.import_module(MODULES[what])
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{old}:{SOURCES[what]}"], check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"old_{what}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{old}:{SOURCES[what]}", "exec"), module.__dict__)
    return module


def spooled_fleet(tenants: int, seed: int) -> Any:
    """``synthetic.fleet(tenants, seed)``, each record put into a spool as it is made and then dropped."""
    from auditor.spool import RecordSpool, dumped
    from tests.render import synthetic

    rng = random.Random(seed)
    kinds, weights = zip(*synthetic.KINDS.items(), strict=True)
    plan = []
    for i in range(tenants):
        name = f"{rng.choice(synthetic.NAMES)} {rng.choice(synthetic.SUFFIXES)} {i}"
        envs = ("stage",) if rng.random() < 0.05 else ("stage", "live")
        plan += [(synthetic.company_id(i), name, env, rng.choices(kinds, weights)[0], len(envs) == 2) for env in envs]
    spool = RecordSpool(len(plan), [cid for cid, *_ in plan])
    for index, (cid, name, env, kind, both) in enumerate(plan):
        spool.put(index, *dumped(synthetic.record(cid, name, env, kind, seed, tenant_has_both=both)))
    run = synthetic.run_of([])
    run.records = spool.complete()
    run.summarise()
    return run


def measure(what: str, tenants: int, old: str | None) -> dict[str, Any]:
    from auditor.atomic import write_bytes_atomic
    from auditor.render.interface import RenderOptions

    module = _module(what, old)
    runs = [spooled_fleet(tenants, 7)] + ([spooled_fleet(tenants, 8)] if what == "compare" else [])
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size starts again from the current one
    before, cpu = _status("VmRSS"), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        if what == "compare":
            changes = module.compare(runs[0], runs[1])
            peak, cpu = _status("VmHWM"), time.process_time() - cpu
            found = (changes.new_failures, changes.resolved, changes.new_errors, changes.still_failing)
            size, digest = sum(map(len, found)), hashlib.sha256(repr(changes).encode())
        else:
            renderer = module.CsvRenderer() if what == "csv" else module.JunitRenderer()
            chunks, options = getattr(renderer, "chunks", None), RenderOptions()
            data = chunks(runs[0], options) if chunks else renderer.render(runs[0], options)
            written = write_bytes_atomic(Path(folder) / renderer.filename, data)
            peak, cpu = _status("VmHWM"), time.process_time() - cpu
            size, digest = written.stat().st_size, hashlib.sha256()
            with written.open("rb") as file:
                while block := file.read(1 << 20):
                    digest.update(block)
    return {"what": what, "code": old or "this checkout", "records": len(runs[0].records), "cpu_s": cpu,
            "rss_before_mb": before / 1024, "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024,
            "size": size, "sha256": digest.hexdigest()[:12]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[5000])
    parser.add_argument("--what", nargs="+", choices=sorted(SOURCES), default=sorted(SOURCES))
    parser.add_argument("--old", metavar="COMMIT", help="also measure these three modules as they were at COMMIT")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # the child: one measurement, JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.what[0], args.tenants[0], args.old)))
        return
    print(f"{'N':>6} {'records':>7} {'what':8} {'code':14} {'RSS before':>10} {'peak':>8} {'growth':>8} "
          f"{'CPU s':>6}  output")
    for n in args.tenants:
        for what in args.what:
            for old in ([None, args.old] if args.old else [None]):
                child = [sys.executable, __file__, "--one", "--tenants", str(n), "--what", what]
                done = subprocess.run(child + (["--old", old] if old else []), check=True, capture_output=True,
                                      text=True)
                m = json.loads(done.stdout)
                unit = "changes" if what == "compare" else "bytes"
                print(f"{n:>6} {m['records']:>7} {what:8} {m['code']:14} {m['rss_before_mb']:>7.1f} MB "
                      f"{m['peak_mb']:>5.1f} MB {m['growth_mb']:>5.1f} MB {m['cpu_s']:>6.2f}  "
                      f"{m['size']} {unit}, sha256 {m['sha256']}", flush=True)


if __name__ == "__main__":
    main()
