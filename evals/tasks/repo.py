"""Materialise an instance's repository as a real git repo and take its patches as `git diff` output.

Author, committer, dates and config are pinned so the same files always give the same commit hashes.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_TIMEOUT = 60.0
IGNORED = "__pycache__/\n*.pyc\n.pytest_cache/\n"


class RepoError(RuntimeError):
    """A git command failed in a generated repository (the message names the repository and command)."""


def support_files(package: str) -> dict[str, str]:
    """Files every generated repository has: `pyproject.toml` pins pytest's rootdir to the repository."""
    pyproject = (
        f'[project]\nname = "{package}"\nversion = "0.1.0"\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n'
    )
    return {"pyproject.toml": pyproject, ".gitignore": IGNORED}


def write_files(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def create_repo(root: Path, files: dict[str, str], when: str, message: str) -> str:
    """A fresh repository at `root` holding exactly `files`, committed once; returns the commit hash."""
    root.mkdir(parents=True)
    write_files(root, files)
    git(root, when, "init", "-q", "-b", "main")
    git(root, when, "add", "-A")
    git(root, when, "commit", "-q", "-m", message)
    return git(root, when, "rev-parse", "HEAD").strip()


def diff_to(root: Path, files: dict[str, str], when: str) -> str:
    """`git diff` from HEAD to HEAD with `files` written over it; the work tree is restored afterwards."""
    write_files(root, files)
    git(root, when, "add", "-A")
    diff = git(root, when, "diff", "--cached", "--no-color", "--no-renames", "HEAD")
    git(root, when, "reset", "-q", "--hard", "HEAD")
    return diff


def git(root: Path, when: str, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "mimo-tasks",
        "GIT_AUTHOR_EMAIL": "tasks@mimo-agent.invalid",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": "mimo-tasks",
        "GIT_COMMITTER_EMAIL": "tasks@mimo-agent.invalid",
        "GIT_COMMITTER_DATE": when,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    result = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT
    )
    if result.returncode != 0:
        raise RepoError(f"{root}: git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout
