"""A persistent, non-interactive bash session: each command runs in a fresh `bash` in its own process group.

Persistence comes from a state directory: the working directory and the exported environment are saved by
an EXIT trap after every command and handed to the next one. A fresh process per command means a hung or
crashed command can never wedge the session; the whole process group is killed on timeout and, when the
command ends, so are background jobs it left behind (a process that called `setsid` survives on purpose).
Output goes to a file, so 10 MB of output or a grandchild holding the stream open cannot block the reader;
when it is cut for the model, the whole file is kept where the caller asks and the cut marker names it.
A `cancel` event (the agent's interrupt) stops the command within `_POLL_S` like a timeout does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mimo_agent.tools.output import fits, head_tail_file

NON_INTERACTIVE_ENV = {
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "SYSTEMD_PAGER": "",
    "TERM": "dumb",
    "NO_COLOR": "1",
    "CI": "1",
    "TQDM_DISABLE": "1",
    "PYTHONUNBUFFERED": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "EDITOR": "true",
    "VISUAL": "true",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_NO_INPUT": "1",
}
_DROPPED_VARS = ("_", "SHLVL")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_OVERWRITTEN = re.compile(r"[^\n]*\r")  # progress bars redraw a line after a bare CR
_KILL_GRACE_S = 0.5
_POLL_S = 0.05  # how often a running command checks the cancel event

# Runs the command file in the session's shell (so `cd` and `export` stick) and saves the state on any exit.
_PRELUDE = """__mimo_save() {
  __mimo_rc=$?
  pwd -P > "$__MIMO_STATE/cwd" 2>/dev/null
  env -0 > "$__MIMO_STATE/env" 2>/dev/null
  exit $__mimo_rc
}
trap __mimo_save EXIT
. "$__MIMO_STATE/command.sh"
"""


@dataclass(frozen=True)
class CommandResult:
    output: str
    exit_code: int | None  # None when killed on timeout or interrupt
    timed_out: bool
    duration_s: float
    cwd: Path
    interrupted: bool = False
    full_output: Path | None = None  # where the whole output was saved when it was cut


class BashSession:
    """One shell session per agent run; `run` is serialised by a lock."""

    def __init__(
        self, cwd: Path, env: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None
    ):
        base = dict(os.environ if env is None else env)
        base.update(NON_INTERACTIVE_ENV if overrides is None else overrides)
        self.env = base
        self.cwd = Path(cwd)
        self._start_dir = self.cwd
        self._state = Path(tempfile.mkdtemp(prefix="mimo-bash-"))
        self._lock = threading.Lock()

    def run(
        self,
        command: str,
        timeout: float,
        max_output_chars: int,
        cancel: threading.Event | None = None,
        save_full: Path | None = None,
    ) -> CommandResult:
        """Run `command`; output over `max_output_chars` is cut to head and tail, the whole of it moved to
        `save_full` (when given) and named in the cut marker relative to the session's starting folder."""
        with self._lock:
            return self._run(command, timeout, max_output_chars, cancel or threading.Event(), save_full)

    def _run(
        self,
        command: str,
        timeout: float,
        max_output_chars: int,
        cancel: threading.Event,
        save_full: Path | None,
    ) -> CommandResult:
        (self._state / "command.sh").write_text(command + "\n", encoding="utf-8")
        for name in ("cwd", "env"):
            (self._state / name).unlink(missing_ok=True)
        out_path = self._state / "output"
        cwd = self.cwd if self.cwd.is_dir() else self._start_dir
        env = {**self.env, "__MIMO_STATE": str(self._state)}
        start = time.monotonic()
        with out_path.open("wb") as out:
            proc = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-c", _PRELUDE],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            timed_out = interrupted = False
            try:
                while proc.poll() is None:
                    left = start + timeout - time.monotonic()
                    timed_out, interrupted = left <= 0, cancel.is_set()
                    if timed_out or interrupted:
                        _kill_group(proc.pid, signal.SIGTERM)
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            proc.wait(timeout=_KILL_GRACE_S)
                        break
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=min(_POLL_S, left))
            finally:
                # Background children too, and on Ctrl-C: the group is its own session, so the
                # terminal's interrupt never reaches it.
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
        duration = time.monotonic() - start
        self._load_state()
        saved, saved_as = None, ""
        if save_full is not None and not fits(out_path, max_output_chars):
            save_full.parent.mkdir(parents=True, exist_ok=True)
            saved = Path(shutil.move(out_path, save_full))
            saved_as = os.path.relpath(saved, self._start_dir)
        raw = head_tail_file(saved or out_path, max_output_chars, saved_as).replace("\r\n", "\n")
        output = _OVERWRITTEN.sub("", _ANSI.sub("", raw)).replace(str(self._state / "command.sh"), "bash")
        out_path.unlink(missing_ok=True)
        exit_code = None if timed_out or interrupted else proc.returncode
        return CommandResult(output, exit_code, timed_out, duration, self.cwd, interrupted, saved)

    def _load_state(self) -> None:
        cwd_file, env_file = self._state / "cwd", self._state / "env"
        if cwd_file.is_file():
            saved = cwd_file.read_text(encoding="utf-8", errors="surrogateescape").strip()
            if saved:
                self.cwd = Path(saved)
        if env_file.is_file():
            env = {}
            for entry in env_file.read_bytes().split(b"\0"):
                name, sep, value = entry.decode("utf-8", errors="surrogateescape").partition("=")
                if sep and name and name not in _DROPPED_VARS and name != "__MIMO_STATE":
                    env[name] = value
            if env:
                self.env = env

    def close(self) -> None:
        shutil.rmtree(self._state, ignore_errors=True)


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
