"""The tag cache: hits on repeat runs (in memory and from disk), invalidation by mtime, size and query changes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from mimo_agent.tools.repo_map import RepoMapper
from mimo_agent.tools.repo_map.cache import DB_NAME, TagCacheError

CACHE = ".mimo-agent/cache"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "lib.py", "def shared_helper():\n    return 1\n")
    write(tmp_path, "app.py", "from lib import shared_helper\n\n\ndef main():\n    shared_helper()\n")
    write(tmp_path, "web/page.js", "function render() {\n  return 1;\n}\n")
    return tmp_path


def test_second_run_hits_the_memory_cache(project: Path) -> None:
    mapper = RepoMapper(project)
    first = mapper.build()
    second = mapper.build()
    assert (first.parsed, first.cached) == (3, 0)
    assert (second.parsed, second.cached) == (0, 3)
    assert second.text == first.text


def test_a_new_mapper_hits_the_disk_cache(project: Path) -> None:
    first = RepoMapper(project).build()
    again = RepoMapper(project).build()
    assert (again.parsed, again.cached) == (0, 3)
    assert again.text == first.text
    assert (project / CACHE / DB_NAME).is_file()


def test_mtime_change_reparses_only_that_file(project: Path) -> None:
    mapper = RepoMapper(project)
    mapper.build()
    lib = write(project, "lib.py", "def renamed_helper():\n    return 1\n")
    st = lib.stat()
    os.utime(lib, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    result = mapper.build()
    assert (result.parsed, result.cached) == (1, 2)
    assert "renamed_helper" in result.text and "shared_helper" not in result.text
    assert RepoMapper(project).build().parsed == 0  # the new tags reached the disk cache too


def test_size_change_with_the_same_mtime_reparses(project: Path) -> None:
    mapper = RepoMapper(project)
    mapper.build()
    lib = project / "lib.py"
    st = lib.stat()
    write(project, "lib.py", "def shared_helper():\n    return 1\n\n\ndef another_one():\n    return 2\n")
    os.utime(lib, ns=(st.st_atime_ns, st.st_mtime_ns))
    result = mapper.build()
    assert result.parsed == 1 and "another_one" in result.text


def test_deleted_file_leaves_the_map(project: Path) -> None:
    mapper = RepoMapper(project)
    mapper.build()
    (project / "web" / "page.js").unlink()
    result = mapper.build()
    assert result.files == 2 and "page.js" not in result.text


def test_changed_queries_or_grammars_drop_the_disk_cache(project: Path) -> None:
    RepoMapper(project).build()
    db = sqlite3.connect(project / CACHE / DB_NAME)
    with db:
        db.execute("UPDATE meta SET value = 'made-by-older-queries' WHERE key = 'fingerprint'")
    db.close()
    assert RepoMapper(project).build().parsed == 3


def test_cache_folder_is_ignored_by_git(project: Path) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    RepoMapper(project).build()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".mimo-agent" not in status and "lib.py" in status


def test_memory_only_cache_writes_nothing(project: Path) -> None:
    mapper = RepoMapper(project, cache_dir=None)
    mapper.build()
    assert mapper.build().parsed == 0
    assert not (project / ".mimo-agent").exists()


def test_absolute_cache_dir_outside_the_workspace(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    RepoMapper(project, cache_dir=elsewhere).build()
    assert (elsewhere / DB_NAME).is_file() and not (project / ".mimo-agent").exists()


def test_unusable_cache_dir_raises_naming_the_file(project: Path) -> None:
    (project / ".mimo-agent").write_text("a file where the cache folder should be")
    with pytest.raises(TagCacheError, match="repo_map_tags.sqlite"):
        RepoMapper(project).build()


def test_deleted_files_are_dropped_from_the_disk_cache(project: Path) -> None:
    RepoMapper(project).build()
    (project / "web" / "page.js").unlink()
    RepoMapper(project).build()
    db = sqlite3.connect(project / CACHE / DB_NAME)
    rows = sorted(rel for (rel,) in db.execute("SELECT rel FROM tags"))
    db.close()
    assert rows == ["app.py", "lib.py"]
