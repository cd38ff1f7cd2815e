"""Fixtures: a real temporary git repository with one commit, and a ToolContext on it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mimo_agent.tools.context import ToolContext
from mimo_agent.tools.registry import get_tool
from mimo_agent.tools.result import ToolResult


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "Test")
    git(path, "config", "commit.gpgsign", "false")
    (path / "README.md").write_text("# demo\n")
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (path / ".gitignore").write_text("build/\n*.log\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo")


@pytest.fixture
def ctx(repo: Path) -> Iterator[ToolContext]:
    context = ToolContext.create(repo)
    yield context
    context.close()


def call(context: ToolContext, name: str, /, **arguments) -> ToolResult:
    """Call a tool the way the loop does: raw arguments dict through the ToolDef's handler."""
    result = get_tool(name).handler(arguments, context)
    assert isinstance(result, ToolResult)
    return result
