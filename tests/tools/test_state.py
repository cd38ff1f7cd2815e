"""The state folder stays out of git wherever the workspace sits in a repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mimo_agent.tools.state import STATE_DIR, exclude_state_dir


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_ignored_at_the_top_below_it_and_in_a_worktree(tmp_path: Path) -> None:
    """Regression: `.git/info/exclude` only covered a workspace at a plain repository's top level."""
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "sub" / "a.py").write_text("x = 1\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    git(repo, "worktree", "add", "-q", str(tmp_path / "tree"))
    for workspace in (repo, repo / "sub", tmp_path / "tree"):
        exclude_state_dir(workspace)
        exclude_state_dir(workspace)  # idempotent
        (workspace / STATE_DIR / "trajectories").mkdir(exist_ok=True)
        (workspace / STATE_DIR / "trajectories" / "t.json").write_text("{}")
        assert git(workspace, "status", "--porcelain", "--untracked-files=all") == ""
