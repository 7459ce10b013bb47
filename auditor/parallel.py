"""Running many network-bound jobs at once: threads, and on a large fleet several processes.

Threads keep many Stripe requests in flight, but each answer still costs the
process some CPU (HTTP, JSON, the rules) under one GIL; on thousands of
records that CPU, not Stripe's latency, became the limit. Forked worker
processes, each with its own threads, spread it over the machine's cores.
"""

from __future__ import annotations

import gc
import os
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:  # multiprocessing is imported where a process is forked (~10 ms the checklist need not pay)
    import multiprocessing.context
    import multiprocessing.process
    from multiprocessing import connection as mp_connection

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")  # what the parent yields of a child's result (decoded, or kept as it was sent)
W = TypeVar("W")  # a result as it crosses the pipe (pickled)


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
    # Results not yet taken by the caller, at most: the threads wait rather than run ahead of a slow consumer
    # (writing each result to disk). Unbounded, a fast source piled up a fleet's results in memory.
    slots = threading.Semaphore(AHEAD_PER_WORKER * max(1, workers))

    def worker() -> None:
        while not stop.is_set():
            if not slots.acquire(timeout=SIGNAL_POLL):
                continue
            try:
                i = todo.get_nowait()
            except queue.Empty:
                slots.release()
                return
            try:
                done.put((i, work(i), None))
            except BaseException as exc:  # handed to the main thread
                done.put((i, None, exc))

    for n in range(max(1, min(workers, len(indices)))):
        threading.Thread(target=worker, name=f"audit-{n}", daemon=True).start()
    try:
        for _ in range(len(indices)):
            i, result, error = _get(done)
            slots.release()
            if error is not None:
                raise error
            yield i, cast(T, result)  # None only beside an error
    finally:
        stop.set()


# The kernel may deliver SIGINT/SIGTERM to any thread; Python runs the handler only when the main thread
# executes bytecode again, so the main thread never blocks longer than this in one wait (it would otherwise
# sleep through Ctrl-C until the next result arrives, which against a Stripe that never answers is never).
SIGNAL_POLL = 0.25
AHEAD_PER_WORKER = 2  # finished results per thread that may wait for the caller (memory flat in the fleet size)


def _get(done: queue.SimpleQueue[Any]) -> Any:
    """The next item; wakes every SIGNAL_POLL seconds so that a pending signal handler runs."""
    while True:
        try:
            return done.get(timeout=SIGNAL_POLL)
        except queue.Empty:
            continue


def in_processes(count: int, work: Callable[[int], T], workers: int, processes: int,
                 encode: Callable[[T], W], decode: Callable[[W], R],
                 lost: Callable[[int, str], R]) -> Iterator[tuple[int, R]]:
    """Like :func:`in_threads` over ``range(count)``, split across forked processes.

    Each child gets every ``processes``-th job and ``workers // processes``
    threads, and sends its results back, ``encode``-d (as text, say), on a pipe of its own.
    A child is judged by what it delivered, never by a clock: the end of its
    pipe means it has exited and everything it sent has been read, so a slow
    record (a retry, a long Retry-After) costs nothing but time. A child that
    died (killed, crashed) costs only the records it had not delivered; each
    becomes ``lost(i, reason)``. Children ignore Ctrl-C: the parent stops them.
    """
    import multiprocessing
    from multiprocessing import connection as mp_connection

    context = multiprocessing.get_context("fork")
    per_child = max(1, workers // processes)
    children: list[_Child] = []
    # the loaded fleet, as it is at the fork, is left out of the collector: a child's collections would
    # otherwise write to every object's header and so copy the parent's pages into each child
    gc.freeze()
    release_free_memory()  # what loading the fleet freed and kept would otherwise be counted in every child
    try:
        for k in range(processes):
            children.append(_Child.start(context, list(range(k, count, processes)), work, per_child, encode))
        open_pipes: dict[Any, _Child] = {child.reader: child for child in children}
        while open_pipes:
            for ready in mp_connection.wait(list(open_pipes), timeout=SIGNAL_POLL):
                child = open_pipes[ready]
                reader = child.reader
                try:
                    i, sent, error = cast(tuple[int, W, str | None], reader.recv())
                except (EOFError, OSError):  # the child is gone (OSError: it died in the middle of a message)
                    del open_pipes[reader]
                    reason = child.end()
                    yield from ((i, lost(i, reason)) for i in sorted(child.undelivered))
                    continue
                if error is not None:
                    raise RuntimeError(f"a worker process failed:\n{error}")
                child.undelivered.discard(i)
                yield i, decode(sent)
    finally:
        for child in children:
            child.stop()
        gc.unfreeze()


def release_free_memory() -> None:
    """Hand the C allocator's free pages back to the system (glibc ``malloc_trim``; elsewhere nothing).

    Loading a large tenant file peaks well above what stays in use (the parsed TOML is dropped), and glibc
    keeps those pages: a forked child maps them too, so before forking they cost once per process.
    """
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the symbols the interpreter itself is linked with
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return
    trim(0)


class _Child:
    """One forked worker process, the read end of its pipe and the jobs it has not delivered yet."""

    def __init__(self, process: multiprocessing.process.BaseProcess, reader: mp_connection.Connection,
                 indices: list[int]):
        self.process = process
        self.reader = reader
        self.undelivered = set(indices)

    @classmethod
    def start(cls, context: multiprocessing.context.ForkContext, indices: list[int], work: Callable[[int], T],
              workers: int, encode: Callable[[T], Any]) -> _Child:
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(indices, work, workers, encode, writer, os.getpid()),
                                  daemon=True)
        process.start()
        writer.close()  # only the child may hold the write end, or its end would never be seen
        return cls(process, reader, indices)

    def end(self) -> str:
        """Why the child stopped delivering: wait for its exit and describe it (for its undelivered records)."""
        self.process.join(timeout=10)
        code = self.process.exitcode
        if code is None:
            self.process.kill()
            self.process.join()
            return "the worker process auditing this record closed its pipe and was stopped"
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        return f"the worker process auditing this record died ({how})"

    def stop(self) -> None:
        """Ask a still running child to stop (SIGTERM), then make sure (SIGKILL)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.reader.close()


def _child(indices: list[int], work: Callable[[int], T], workers: int, encode: Callable[[T], Any],
           writer: mp_connection.Connection, parent: int) -> None:
    _become_worker(parent)
    try:
        for i, result in in_threads(indices, work, workers):
            writer.send((i, encode(result), None))
    except BaseException:
        writer.send((-1, "", traceback.format_exc()))
    finally:
        writer.close()


def _become_worker(parent: int) -> None:
    """Signals in a child: Ctrl-C is the parent's to handle; SIGTERM/SIGHUP end it at once, as does the parent's death.

    The parent's own SIGTERM/SIGHUP handlers (see auditor.signals) are inherited
    by fork and would turn a stop request into an exception inside the worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this child when the parent dies, even by SIGKILL, so no worker outlives the run."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no libc: the parent's stop() still ends its children
        return
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)


def default_processes(records: int, workers: int) -> int:
    """Processes worth forking: one per core for a large fleet with many workers, else one."""
    if records < 200 or workers < 8 or not hasattr(os, "fork"):
        return 1
    return max(1, min(os.cpu_count() or 1, 4, workers // 4))


class HelperThreads:
    """Daemon threads for work a thread hands off and then waits for (a record's other reads).

    The pool grows to the demand and no further than ``limit`` (beyond it, work
    queues), so its size follows the records in flight: two helpers per record
    at most, never a thread per request. Threads are kept, not started per task,
    because each holds its own keep-alive connection. Daemon threads, like
    :func:`in_threads`, so Ctrl-C never waits for a request in flight; and a
    forked child starts its own threads (a fork copies none of the parent's).
    """

    def __init__(self, limit: int = 512):
        self.limit = limit
        self._pid = -1
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on a helper thread; its result (or exception) arrives in the returned Future."""
        future: Future[T] = Future()
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: the parent's threads are not here
                self._pid = os.getpid()
                self._tasks: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
                self._idle = self._threads = self._backlog = 0
            if self._idle:
                self._idle -= 1
            elif self._threads < self.limit:
                self._threads += 1
                threading.Thread(target=self._serve, name=f"read-{self._threads}", daemon=True).start()
            else:  # every thread busy: the next one to finish takes it
                self._backlog += 1
            self._tasks.put((fn, future))
        return future

    def _serve(self) -> None:
        tasks = self._tasks
        while True:
            fn, future = tasks.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to the waiting thread
                    future.set_exception(exc)
            with self._lock:
                if self._backlog:
                    self._backlog -= 1
                else:
                    self._idle += 1


def _same(value: Any) -> Any:
    return value


def forked_map(work: Callable[[U], T], shares: Sequence[U], encode: Callable[[T], Any] = _same,
               decode: Callable[[Any], T] = _same) -> list[T] | None:
    """``[work(s) for s in shares]``, the first share in this process and each other one in a forked child.

    For CPU-bound work on data this process already holds (parsing a large
    tenant file on every core): a fork copies it for free, and each child sends
    back only its result, ``encode``-d and pickled, on a pipe of its own (this
    process ``decode``-s it). ``None`` if any share failed or a child died; the
    caller then does the work itself, so that an error is raised, and worded,
    as without children.
    """
    if len(shares) < 2 or not hasattr(os, "fork"):
        return None
    import multiprocessing

    context = multiprocessing.get_context("fork")
    children: list[tuple[Any, mp_connection.Connection]] = []  # (a fork context's Process, its pipe's read end)
    try:
        for share in shares[1:]:
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_map_child, args=(work, encode, share, writer, os.getpid()),
                                      daemon=True)
            process.start()
            writer.close()
            children.append((process, reader))
        try:
            results = [work(shares[0])]
        except Exception:
            return None
        for _, reader in children:
            try:
                ok, result = reader.recv()
            except (EOFError, OSError):  # the child died
                return None
            if not ok:
                return None
            results.append(decode(result))
        return results
    finally:
        for process, reader in children:
            reader.close()
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join()


def _map_child(work: Callable[[U], T], encode: Callable[[T], Any], share: U, writer: mp_connection.Connection,
               parent: int) -> None:
    _become_worker(parent)
    try:
        writer.send((True, encode(work(share))))
    except Exception:  # the parent redoes this share itself, and raises its error there
        writer.send((False, None))
    finally:
        writer.close()
