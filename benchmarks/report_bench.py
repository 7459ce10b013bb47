"""Report rendering at fleet scale: seconds, peak memory and size per format.

Builds a synthetic run of N tenants (two records each, about 5% stage only) with
a realistic mix: about 70% of records pass, the others fail with WH004 URL
differences, WH006 missing events, a stage host on live, an inactive account,
inline secrets, extra events, waivers, or could not be audited (HTTP 403). Then
renders each format as `audit run` and `audit report` do, and prints a table.

    .venv/bin/python benchmarks/report_bench.py --tenants 1000

Peak MB: for the PDF, the peak resident memory of the child process that lays
it out (resource.getrusage(RUSAGE_CHILDREN)); for the other formats, which
render in the auditor's own process, the peak of Python allocations while
rendering (tracemalloc, measured in a second, untimed pass).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.render import RenderOptions, get_renderer
from tests.render.synthetic import fleet


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _pages(pdf: bytes) -> str:
    try:
        from io import BytesIO

        from pypdf import PdfReader
    except ImportError:  # pypdf is a test dependency
        return "?"
    return str(len(PdfReader(BytesIO(pdf)).pages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1000])
    parser.add_argument("--formats", default="html,pdf,junit,json")
    parser.add_argument("--save", type=Path, help="write the rendered files to this folder")
    args = parser.parse_args()
    print(f"{'N':>6} {'records':>7} {'format':8} {'seconds':>8} {'peak MB':>8} {'size MB':>8}  pages/notes")
    for n in args.tenants:
        run = fleet(n)
        counts = run.summary
        note = f"{counts['pass']} pass, {counts['fail']} fail, {counts['error']} error"
        for name in args.formats.split(","):
            renderer = get_renderer(name)
            before = _cpu()
            start = time.perf_counter()
            data = renderer.render(run, RenderOptions())
            seconds = time.perf_counter() - start
            cpu = [after - b for after, b in zip(_cpu(), before, strict=True)]
            if name == "pdf":
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                extra = f"{_pages(data)} pages; CPU s: auditor {cpu[0]:.1f}, layout child {cpu[1]:.1f}"
            else:
                tracemalloc.start()
                renderer.render(run, RenderOptions())
                peak = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
                extra = note
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / renderer.filename).write_bytes(data)
            print(f"{n:>6} {len(run.records):>7} {name:8} {seconds:8.2f} {peak:8.0f} {len(data) / 1e6:8.2f}  {extra}",
                  flush=True)


if __name__ == "__main__":
    main()
