"""Run a command in its own process group with a timeout, its output appended to a log file.

Test suites spawn children (pytest-xdist, servers); killing the whole group on timeout is the only way
to be sure nothing keeps running after the harness moves on. Because each command has its own session,
a Ctrl-C at the terminal does not reach it: `stop_all` kills every running group and makes the
commands' callers see `Stopped`, so no result is recorded from a killed run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_running: set[subprocess.Popen[bytes]] = set()
_lock = threading.Lock()
_stopping = threading.Event()


class Stopped(Exception):
    """The harness is stopping (interrupted): the command was killed and its result means nothing."""


@dataclass(frozen=True)
class Completed:
    returncode: int
    timed_out: bool
    seconds: float


def run_logged(
    command: Sequence[str],
    cwd: Path,
    log: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """Run `command`, appending stdout and stderr (interleaved) to `log`; kill its group after `timeout` s."""
    if _stopping.is_set():
        raise Stopped(" ".join(command))
    start = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with _lock:
            _running.add(proc)
        try:
            returncode = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            returncode = -signal.SIGKILL
        finally:
            with _lock:
                _running.discard(proc)
            _kill_group(proc)
            proc.wait()
    if _stopping.is_set():
        raise Stopped(" ".join(command))
    return Completed(returncode, timed_out, time.monotonic() - start)


def stop_all() -> None:
    """Kill every running command's process group; later `run_logged` calls raise `Stopped` at once."""
    _stopping.set()
    with _lock:
        running = list(_running)
    for proc in running:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill whatever is left in the process group (also after a normal exit: stray background children)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
