"""``{ command = [...] }`` secrets: the output of a vault's command-line client.

Teams keep keys in Vault, 1Password, ``pass`` or a cloud secret manager; each has a
client that prints one secret (``op read op://...``). The command runs without a
shell (its argv is exactly what the tenant file lists), with no standard input, a
timeout and a cap on what it may print. Its output is a secret, so no message here
ever contains any of it — nor its standard error, which clients fill with the
request they failed, sometimes including the value.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

TIMEOUT_ENV = "AUDIT_SECRET_COMMAND_TIMEOUT"  # seconds; lets an operator (or a test) shorten or lengthen the wait
DEFAULT_TIMEOUT = 30.0
MAX_OUTPUT_BYTES = 64 * 1024  # a secret is a line; anything larger is a wrong command, not a key


class SecretCommandError(Exception):
    """Why a command gave no secret; the message never holds anything the command printed."""


def command_timeout() -> float:
    """The timeout from ``AUDIT_SECRET_COMMAND_TIMEOUT`` (seconds), else 30 s."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise SecretCommandError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise SecretCommandError(f"{TIMEOUT_ENV} must be between 0 and 3600 seconds, not {raw}")
    return value


def run_secret_command(argv: Sequence[str], timeout: float | None = None,
                       max_bytes: int = MAX_OUTPUT_BYTES, cwd: Path | None = None) -> str:
    """Run ``argv`` (no shell) in ``cwd`` and return what it printed, less one final line ending."""
    if not argv or not all(isinstance(a, str) and a for a in argv):
        raise SecretCommandError("the command is an empty list or holds an empty argument")
    if any("\0" in a for a in argv):  # no program can receive it; Popen would raise a bare ValueError
        raise SecretCommandError("the command holds a NUL character (\\u0000), which no argument can carry")
    limit = command_timeout() if timeout is None else timeout
    name = argv[0]
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, shell=False, start_new_session=True, cwd=cwd)
    except FileNotFoundError:
        raise SecretCommandError(f"command {name!r} was not found (is its client installed and on PATH?)") from None
    except OSError as exc:
        raise SecretCommandError(f"command {name!r} cannot be run ({exc.strerror or type(exc).__name__})") from None
    finished = False
    try:
        raw = _read_capped(proc, limit, max_bytes, name)
        code = proc.wait(timeout=max(0.1, limit))
        finished = True
    except subprocess.TimeoutExpired:
        raise SecretCommandError(f"command {name!r} did not finish within {limit:g} s") from None
    finally:
        _stop(proc, finished)
    if code != 0:
        raise SecretCommandError(f"command {name!r} failed with exit code {code} (its output is not shown: "
                                 f"it may hold the secret; run it by hand to see why)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretCommandError(f"command {name!r} printed something that is not UTF-8 text") from None
    return _strip_one_line_ending(text)


def _read_capped(proc: subprocess.Popen[bytes], limit: float, max_bytes: int, name: str) -> bytes:
    """Everything on standard output until it closes; a deadline and a size cap stop a runaway client."""
    assert proc.stdout is not None
    deadline = time.monotonic() + limit
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SecretCommandError(f"command {name!r} did not finish within {limit:g} s")
            if not selector.select(timeout=remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise SecretCommandError(f"command {name!r} printed more than {max_bytes} bytes; a secret is one line")
            chunks.append(chunk)


def _stop(proc: subprocess.Popen[bytes], finished: bool) -> None:
    """Unless it finished, kill the command and anything it started (its own group), then reap it.

    The group is killed even when the client itself has exited: a helper it forked may hold standard
    output open (which is why we gave up) and would otherwise outlive the run. The client is reaped
    only afterwards, so its unreaped PID keeps the group's ID from being reused by another process.
    """
    if not finished:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _strip_one_line_ending(text: str) -> str:
    """``echo`` and most clients end with one newline: it is the output's, not the secret's."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text
