"""Run a generated program's tests (or a probe script) in a subprocess, killed with its group on timeout."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

STATUS_LINE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", re.MULTILINE)
DEFAULT_TIMEOUT = 15.0


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    timed_out: bool


def pytest_command(test_files: list[str]) -> list[str]:
    """The spec's `test_cmd`, as argv."""
    return ["python", "-m", "pytest", "-rA", *test_files]


def run_tests(
    repo: Path, test_files: list[str], timeout: float = DEFAULT_TIMEOUT
) -> tuple[dict[str, str], Outcome]:
    """Statuses by pytest node id (from the `-rA` summary), plus the raw outcome."""
    return run_test_cmd(repo, " ".join(pytest_command(test_files)), timeout)


def run_test_cmd(
    repo: Path, test_cmd: str, timeout: float = DEFAULT_TIMEOUT
) -> tuple[dict[str, str], Outcome]:
    """Run a spec's `test_cmd` with this interpreter as `python` (no pytest cache written)."""
    argv = shlex.split(test_cmd)
    if argv[0] == "python":
        argv[0] = sys.executable
    outcome = run([*argv, "-p", "no:cacheprovider"], repo, timeout)
    return {node: status for status, node in STATUS_LINE.findall(outcome.output)}, outcome


def run(argv: list[str], cwd: Path, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
    """Plugin autoloading is off (3x faster start); bytecode is not written into the repository."""
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    for name in ("PYTEST_ADDOPTS", "PYTHONPATH"):
        env.pop(name, None)
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return Outcome(proc.returncode, out.decode(errors="replace"), True)
    return Outcome(proc.returncode, out.decode(errors="replace"), False)
