from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mimo_agent.tools.context import ToolContext
from mimo_agent.tools.git import GitError, GitRepo
from tests.tools.conftest import call, git


def test_find_outside_a_repository(tmp_path: Path) -> None:
    assert GitRepo.find(tmp_path) is None
    with pytest.raises(GitError, match="not a git repository"):
        GitRepo(tmp_path)


def test_status_log_and_diff_include_untracked_files(repo: Path) -> None:
    g = GitRepo(repo / "src")
    assert g.root == repo.resolve()
    (repo / "src" / "app.py").write_text("def add(a, b):\n    return b + a\n")
    (repo / "notes.txt").write_text("new\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_text("ignored\n")
    assert " M src/app.py" in g.status() and "?? notes.txt" in g.status()
    assert g.log().splitlines()[0].endswith("Test initial")
    diff = g.diff()
    assert "+    return b + a" in diff and "+++ b/notes.txt" in diff and "out.o" not in diff
    # The diff applies to the base commit.
    git(repo, "stash", "-u", "-q")
    subprocess.run(["git", "apply", "-"], cwd=repo, input=diff, text=True, check=True)
    assert (repo / "notes.txt").read_text() == "new\n"


def test_snapshot_leaves_the_index_alone(repo: Path) -> None:
    (repo / "staged.txt").write_text("s\n")
    git(repo, "add", "staged.txt")
    (repo / "untracked.txt").write_text("u\n")
    before = git(repo, "status", "--porcelain")
    GitRepo(repo).checkpoint("turn 1")
    assert git(repo, "status", "--porcelain") == before
    assert git(repo, "stash", "list") == ""


def test_undo_restores_only_agent_changes_and_keeps_user_work(repo: Path) -> None:
    """The user's uncommitted edit made before the checkpoint survives undo."""
    g = GitRepo(repo)
    (repo / "README.md").write_text("# demo\nuser's unsaved notes\n")
    (repo / "user_draft.txt").write_text("draft\n")
    cp = g.checkpoint("before turn 3")
    context = ToolContext.create(repo)
    call(context, "edit", path="src/app.py", old_string="a + b", new_string="a * b")
    call(context, "write_file", path="src/new_module.py", content="X = 1\n")
    (repo / "user_draft.txt").unlink()  # the agent deleted it with bash
    (repo / "build").mkdir()
    (repo / "build" / "cache.bin").write_text("ignored build output\n")
    assert sorted(g.changed_since(cp)) == ["src/app.py", "src/new_module.py", "user_draft.txt"]
    restored = g.undo(cp)
    assert sorted(restored) == ["src/app.py", "src/new_module.py", "user_draft.txt"]
    assert (repo / "src/app.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert not (repo / "src/new_module.py").exists()
    assert (repo / "user_draft.txt").read_text() == "draft\n"
    assert (repo / "README.md").read_text() == "# demo\nuser's unsaved notes\n"
    assert (repo / "build" / "cache.bin").exists()
    assert g.changed_since(cp) == []


def test_undo_limited_to_paths_the_agent_touched(repo: Path) -> None:
    g = GitRepo(repo)
    cp = g.checkpoint()
    context = ToolContext.create(repo)
    call(context, "edit", path="src/app.py", old_string="a + b", new_string="a - b")
    (repo / "README.md").write_text("# edited by the user meanwhile\n")
    assert g.undo(cp, paths=sorted(context.changed_paths)) == ["src/app.py"]
    assert (repo / "README.md").read_text() == "# edited by the user meanwhile\n"
    assert "a + b" in (repo / "src/app.py").read_text()


def test_undo_keeps_modes_and_removes_emptied_folders(repo: Path) -> None:
    script = repo / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    g = GitRepo(repo)
    cp = g.checkpoint()
    script.unlink()
    (repo / "deep" / "er").mkdir(parents=True)
    (repo / "deep" / "er" / "f.txt").write_text("x")
    g.undo(cp)
    assert script.stat().st_mode & 0o777 == 0o755
    assert not (repo / "deep").exists()


def test_checkpoints_are_listed_and_dropped(repo: Path) -> None:
    g = GitRepo(repo)
    first = g.checkpoint("one")
    (repo / "x.txt").write_text("x")
    second = g.checkpoint("two")
    assert [(c.ref, c.label) for c in g.checkpoints()] == [(first.ref, "one"), (second.ref, "two")]
    assert first.commit != second.commit
    g.drop_checkpoints()
    assert g.checkpoints() == []


def test_repository_without_commits(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.txt").write_text("a\n")
    g = GitRepo(tmp_path)
    assert g.head() is None and g.log() == ""
    assert "+++ b/a.txt" in g.diff()
    cp = g.checkpoint()
    (tmp_path / "a.txt").write_text("changed\n")
    g.undo(cp)
    assert (tmp_path / "a.txt").read_text() == "a\n"
