"""The few git operations the harness needs, isolated from the user's git configuration.

Grading must not depend on whoever runs it: global hooks, excludes or autocrlf settings would change
which files a commit holds, so every call ignores global and system config and uses a fixed identity.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mimo_agent.evals.swebench.process import Completed, run_logged

IDENTITY = {
    "GIT_AUTHOR_NAME": "mimo-agent",
    "GIT_AUTHOR_EMAIL": "mimo-agent@localhost",
    "GIT_COMMITTER_NAME": "mimo-agent",
    "GIT_COMMITTER_EMAIL": "mimo-agent@localhost",
}


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"})
    env.update(IDENTITY)
    return env


def git(repo: Path, args: list[str], log: Path, timeout: float = 600) -> Completed:
    return run_logged(["git", *args], cwd=repo, log=log, timeout=timeout, env=git_env())


def git_output(repo: Path, args: list[str]) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=git_env(), capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout.strip()


def commit_all(repo: Path, message: str, log: Path) -> str | None:
    """Commit every non-ignored file; returns the new HEAD, or None when git failed (see `log`)."""
    if git(repo, ["add", "-A"], log).returncode != 0:
        return None
    if git(repo, ["commit", "-q", "--allow-empty", "--no-verify", "-m", message], log).returncode != 0:
        return None
    return git_output(repo, ["rev-parse", "HEAD"])


def reset_clean(repo: Path, commit: str, log: Path) -> bool:
    """Back to `commit` exactly, as the official harness does between patch attempts (ignored files stay)."""
    reset = git(repo, ["reset", "-q", "--hard", commit], log)
    return reset.returncode == 0 and git(repo, ["clean", "-q", "-fd"], log).returncode == 0
