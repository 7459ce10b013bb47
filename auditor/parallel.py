"""Running many network-bound jobs at once: threads, and on a large fleet several processes.

Threads keep many Stripe requests in flight, but each answer still costs the
process some CPU (HTTP, JSON, the rules) under one GIL; on thousands of
records that CPU, not Stripe's latency, became the limit. Forked worker
processes, each with its own threads, spread it over the machine's cores.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import traceback
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")


def in_threads(indices: list[int], work: Callable[[int], T], workers: int) -> Iterator[tuple[int, T]]:
    """Yield ``(i, work(i))`` as they finish, on ``workers`` daemon threads.

    Daemon threads, not a ThreadPoolExecutor: on Ctrl-C the main thread stops
    waiting at once and the process can exit without waiting for requests in
    flight (an executor's threads are joined at exit, up to a full timeout).
    """
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in indices:
        todo.put(i)
    done: queue.SimpleQueue[tuple[int, T | None, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((i, work(i), None))
            except BaseException as exc:  # handed to the main thread
                done.put((i, None, exc))

    for n in range(max(1, min(workers, len(indices)))):
        threading.Thread(target=worker, name=f"audit-{n}", daemon=True).start()
    try:
        for _ in range(len(indices)):
            i, result, error = done.get()
            if error is not None:
                raise error
            yield i, result  # type: ignore[misc]
    finally:
        stop.set()


def in_processes(count: int, work: Callable[[int], T], workers: int, processes: int,
                 encode: Callable[[T], str], decode: Callable[[str], T]) -> Iterator[tuple[int, T]]:
    """Like :func:`in_threads` over ``range(count)``, split across forked processes.

    Each child gets every ``processes``-th job and ``workers // processes``
    threads; results travel back encoded as text. Children ignore Ctrl-C: the
    parent stops them.
    """
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    per_child = max(1, workers // processes)
    children = [context.Process(target=_child, args=(list(range(k, count, processes)), work, per_child, encode,
                                                      results), daemon=True) for k in range(processes)]
    for child in children:
        child.start()
    try:
        received = 0
        while received < count:
            try:
                i, text, error = results.get(timeout=1.0)
            except queue.Empty:
                if not all(c.is_alive() for c in children) and results.empty():
                    raise RuntimeError("a worker process ended before finishing its records") from None
                continue
            if error is not None:
                raise RuntimeError(f"a worker process failed:\n{error}")
            received += 1
            yield i, decode(text)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()


def _child(indices: list[int], work: Callable[[int], T], workers: int, encode: Callable[[T], str],
           results: "multiprocessing.Queue") -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for i, result in in_threads(indices, work, workers):
            results.put((i, encode(result), None))
    except BaseException:
        results.put((-1, "", traceback.format_exc()))
    finally:
        results.close()
        results.join_thread()


def default_processes(records: int, workers: int) -> int:
    """Processes worth forking: one per core for a large fleet with many workers, else one."""
    if records < 200 or workers < 8 or not hasattr(os, "fork"):
        return 1
    return max(1, min(os.cpu_count() or 1, 4, workers // 4))
