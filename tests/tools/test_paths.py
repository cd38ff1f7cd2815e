from __future__ import annotations

import os
from pathlib import Path

import pytest

from mimo_agent.tools.paths import PathEscapeError, Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n")
    return Workspace(root)


def test_relative_and_absolute_paths_inside_are_accepted(ws: Workspace) -> None:
    assert ws.resolve("src/a.py") == ws.root / "src" / "a.py"
    assert ws.resolve(str(ws.root / "src" / "a.py")) == ws.root / "src" / "a.py"
    assert ws.resolve("src/../src/a.py") == ws.root / "src" / "a.py"
    assert ws.resolve(".") == ws.root


def test_new_file_in_new_folder_is_accepted(ws: Workspace) -> None:
    assert ws.resolve("new/dir/file.txt", for_write=True) == ws.root / "new" / "dir" / "file.txt"


def test_symlink_staying_inside_is_accepted(ws: Workspace) -> None:
    os.symlink("src", ws.root / "alias")
    assert ws.resolve("alias/a.py") == ws.root / "src" / "a.py"


def test_workspace_reached_through_a_symlink_still_contains_its_files(tmp_path: Path, ws: Workspace) -> None:
    link = tmp_path / "link-to-ws"
    os.symlink(ws.root, link)
    via_link = Workspace(link)
    assert via_link.resolve(str(link / "src" / "a.py")) == ws.root / "src" / "a.py"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "empty"),
        ("../x", "outside the workspace"),
        ("/etc/passwd", "outside the workspace"),
        ("~/x", "'~' is not expanded"),
        ("a\x00b", "NUL byte"),
    ],
)
def test_refusals_name_the_path_and_the_reason(ws: Workspace, path: str, message: str) -> None:
    with pytest.raises(PathEscapeError, match=message):
        ws.resolve(path)


def test_git_internals_are_read_only(ws: Workspace) -> None:
    (ws.root / ".git").mkdir()
    assert ws.resolve(".git/config") == ws.root / ".git" / "config"
    with pytest.raises(PathEscapeError, match="inside .git"):
        ws.resolve(".git/hooks/post-checkout", for_write=True)


def test_relative_form(ws: Workspace) -> None:
    assert ws.relative(ws.root / "src" / "a.py") == "src/a.py"
    assert ws.relative(ws.root) == "."


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(PathEscapeError, match="not a directory"):
        Workspace(tmp_path / "missing")
