"""Atomic, private writes: every output goes to a temporary file, then is renamed into place.

An interrupted run (Ctrl-C, SIGTERM, a crash, a full disk) therefore never
leaves a half-written report or results file behind. Inside
:func:`output_batch` the renames wait for the end of the block, and then
happen together with stop signals held back: a run's set of outputs is put in
place completely or not at all, never a new results.json beside an old report.

Outputs name tenants and their Stripe accounts, so files are created 0600
and folders 0700 (``set_file_mode``: ``audit --file-mode``); a stricter umask
still applies.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

DEFAULT_FILE_MODE = 0o600
_file_mode = DEFAULT_FILE_MODE
_batch: ContextVar[list[tuple[str, Path]] | None] = ContextVar("output_batch", default=None)
_DEFERRED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_put_in_place = 0  # files this process has renamed into place, for the interrupt message


class OutputError(Exception):
    """An output could not be written (disk full, I/O error, no permission); names the file."""

    def __init__(self, path: Path, error: OSError):
        super().__init__(f"could not write {path}: {error.strerror or error}")
        self.path = path
        self.error = error


def set_file_mode(mode: int) -> None:
    """The permission bits of every file written from now on (folders get x where r is set)."""
    global _file_mode
    _file_mode = mode


def file_mode() -> int:
    """The mode new files get: the chosen mode, narrowed by the umask."""
    return _file_mode & ~_umask()


def folder_mode() -> int:
    """Folders: the file mode plus x wherever r is set, and always rwx for the owner."""
    mode = file_mode()
    return mode | ((mode & 0o444) >> 2) | 0o700


def write_bytes_atomic(path: Path, data: bytes | Iterable[bytes]) -> Path:
    """Write ``data`` (bytes, or chunks written as they come) to a temporary file, then rename it to ``path``.

    Inside :func:`output_batch` the rename waits for the batch's end. A failed
    write (a full disk) is an :class:`OutputError` naming ``path``; the
    temporary file is removed either way.
    """
    path = Path(path)
    tmp = _write_temporary(path, data)
    staged = _batch.get()
    if staged is not None:
        staged.append((tmp, path))
    else:
        _rename(tmp, path)
    return path


def write_bytes_new(directory: Path, name: Callable[[], str], data: bytes | Iterable[bytes]) -> Path:
    """Write ``data`` atomically to a new file ``directory / name()``, never replacing an existing file.

    For folders that several runs share (``--history``): the file is put in
    place by a hard link, which fails rather than overwrite; a name already
    taken is tried again with a fresh ``name()``.
    """
    first = Path(directory) / name()
    tmp = _write_temporary(first, data)
    try:
        for attempt in range(100):
            path = first if attempt == 0 else Path(directory) / name()
            try:
                _link_or_reserve(tmp, path)
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputError(path, exc) from None
            _count_put_in_place()
            return path
        raise OutputError(first, FileExistsError(17, "no free file name after 100 attempts"))
    finally:
        _unlink(tmp)


def _link_or_reserve(tmp: str, path: Path) -> None:
    """Put ``tmp``'s content at ``path`` only if nothing is there (FileExistsError otherwise)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: reserve the name, then replace the empty file
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode()))
        os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def output_batch() -> Iterator[None]:
    """Files written in the block are put in place together when it ends without an exception, else none is.

    A batch inside a batch joins the outer one.
    """
    if _batch.get() is not None:
        yield
        return
    staged: list[tuple[str, Path]] = []
    token = _batch.set(staged)
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            _unlink(tmp)
        raise
    finally:
        _batch.reset(token)
    with _signals_held():
        for n, (tmp, path) in enumerate(staged):
            try:
                os.replace(tmp, path)
            except OSError as exc:  # e.g. the folder was removed meanwhile: the rest is not put in place either
                for rest, _ in staged[n:]:
                    _unlink(rest)
                raise OutputError(path, exc) from None
            _count_put_in_place()


def files_put_in_place() -> int:
    """How many files this process has put in place so far (complete, renamed from their temporary file)."""
    return _put_in_place


def _count_put_in_place() -> None:
    global _put_in_place
    _put_in_place += 1


def make_folder(directory: Path) -> Path:
    """Create ``directory`` and its missing parents private (0700 by default); an existing one is left as it is."""
    directory = Path(directory)
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=folder_mode())
        except FileExistsError:  # made meanwhile by a concurrent run
            pass
    return directory


def check_writable(directory: Path) -> None:
    """Prove a file can be made in ``directory`` (a probe, removed at once), leaving nothing behind.

    Checked before auditing, so a wrong folder costs no Stripe time; the folders the
    probe had to create are removed again, so a run stopped later (Stripe unreachable)
    leaves no trace. Raises OutputError.
    """
    directory = Path(directory)
    missing = [p for p in [directory, *directory.parents] if not p.exists()]
    try:
        make_folder(directory)
        fd, probe = tempfile.mkstemp(prefix=".audit-probe.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(directory, exc) from None
    finally:
        for created in missing:  # deepest first; a folder another process filled meanwhile stays
            try:
                created.rmdir()
            except OSError:
                break


def _write_temporary(path: Path, data: bytes | Iterable[bytes]) -> str:
    """The data in a new private temporary file beside ``path``; only the writing's OSErrors become OutputError."""
    try:
        make_folder(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, exc) from None
    handle = os.fdopen(fd, "wb")
    try:
        _io(path, os.fchmod, fd, file_mode())
        for chunk in [data] if isinstance(data, bytes) else data:  # a renderer's own errors pass as they are
            _io(path, handle.write, chunk)
        _io(path, handle.flush)
        _io(path, os.fsync, fd)
        _io(path, handle.close)
    except BaseException:
        try:
            handle.close()
        except OSError:  # what could not be written is reported already
            pass
        _unlink(tmp)
        raise
    return tmp


def _io(path: Path, operation, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        operation(*args)
    except OSError as exc:
        raise OutputError(path, exc) from None


def _rename(tmp: str, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(path, exc) from None
    _count_put_in_place()


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP back while the renames run; the first one takes effect right after.

    Python runs signal handlers in the main thread whichever thread the kernel
    picked, so the handlers are swapped rather than the thread's signal mask.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[signal.Signals] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signal.Signals(signum)))
                for signum in _DEFERRED}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            _deliver(caught[0], previous[caught[0]])


def _deliver(signum: int, handler: object) -> None:
    """Act on a held-back signal as its own handler would have."""
    if callable(handler):
        handler(signum, None)
    elif handler != signal.SIG_IGN:  # SIG_DFL, or a handler not set from Python
        os.kill(os.getpid(), signum)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
