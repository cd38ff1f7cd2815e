"""Which files the map covers (.gitignore, skipped folders, size, binary, symlinks) and how focus resolves."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mimo_agent.tools.paths import PathEscapeError
from mimo_agent.tools.repo_map import RepoMapConfig, RepoMapper
from mimo_agent.tools.repo_map.files import list_source_files


def write(root: Path, rel: str, text: str = "def f():\n    pass\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=T", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def rels(root: Path, max_file_bytes: int = 10**6) -> list[str]:
    return [f.rel for f in list_source_files(root, max_file_bytes)]


def test_git_repository_respects_gitignore(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, ".gitignore", "generated/\n*_pb2.py\n")
    write(tmp_path, "src/tracked.py")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "init")
    write(tmp_path, "src/untracked.py")
    write(tmp_path, "generated/out.py")
    write(tmp_path, "src/model_pb2.py")
    write(tmp_path, "notes.txt", "not source")
    assert rels(tmp_path) == ["src/tracked.py", "src/untracked.py"]
    assert "generated" not in RepoMapper(tmp_path, cache_dir=None).build().text


def test_tracked_file_deleted_from_the_work_tree_is_skipped(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, "a.py")
    write(tmp_path, "b.py")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "init")
    (tmp_path / "b.py").unlink()
    assert rels(tmp_path) == ["a.py"]


def test_subfolder_of_a_git_repository_lists_paths_relative_to_itself(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, ".gitignore", "skip.py\n")
    write(tmp_path, "pkg/mod.py")
    write(tmp_path, "pkg/skip.py")
    write(tmp_path, "outside.py")
    assert rels(tmp_path / "pkg") == ["mod.py"]


def test_plain_folder_walk_skips_dependency_and_build_folders(tmp_path: Path) -> None:
    for rel in [
        "main.go",
        "lib/util.rs",
        "node_modules/dep/index.js",
        ".venv/lib/site.py",
        "build/gen.c",
        "target/debug/x.rs",
        "pkg.egg-info/x.py",
        ".git/hooks/x.py",
        "src/__pycache__/m.py",
    ]:
        write(tmp_path, rel)
    assert rels(tmp_path) == ["lib/util.rs", "main.go"]


def test_large_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "small.py")
    write(tmp_path, "huge.py", "x = 1\n" * 1000)
    assert rels(tmp_path, max_file_bytes=100) == ["small.py"]
    result = RepoMapper(tmp_path, cache_dir=None, config=RepoMapConfig(max_file_bytes=100)).build()
    assert result.files == 1


def test_binary_file_with_a_source_extension_has_no_definitions(tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"def f():\x00\x00\x00\n")
    write(tmp_path, "real.py", "def visible():\n    pass\n")
    result = RepoMapper(tmp_path, cache_dir=None).build()
    assert result.files == 2 and "blob.py" not in result.text and "visible" in result.text


def test_symlink_leaving_the_workspace_is_not_read(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", "secret.py", "def secret_function():\n    pass\n")
    root = tmp_path / "root"
    write(root, "inside.py")
    (root / "link.py").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "inside.py")
    assert rels(root) == ["alias.py", "inside.py"]
    assert "secret_function" not in RepoMapper(root, cache_dir=None).build().text


@pytest.fixture
def mapper(tmp_path: Path) -> RepoMapper:
    write(tmp_path, "pkg/models.py", "class User:\n    def save(self):\n        pass\n")
    write(tmp_path, "pkg/views.py", "from pkg.models import User\n\n\ndef show():\n    User().save()\n")
    write(tmp_path, "cli.py", "from pkg.views import show\n\n\ndef run():\n    show()\n")
    write(tmp_path, "README.md", "# readme\n")
    return RepoMapper(tmp_path, cache_dir=None)


KNOWN = ["cli.py", "pkg/models.py", "pkg/views.py"]


def test_focus_list_of_files_and_identifiers(mapper: RepoMapper) -> None:
    focus = mapper.resolve_focus(["pkg/views.py", "User.save"], KNOWN)
    assert focus.files == {"pkg/views.py"}
    assert {"User", "save"} <= focus.identifiers and focus.unknown_paths == ()


def test_focus_free_text_picks_out_paths_and_identifiers(mapper: RepoMapper) -> None:
    focus = mapper.resolve_focus("Fix `show()` in pkg/views.py, it crashes.", KNOWN)
    assert focus.files == {"pkg/views.py"}
    assert {"show", "Fix", "crashes"} <= focus.identifiers


def test_focus_folder_expands_to_its_files(mapper: RepoMapper) -> None:
    assert mapper.resolve_focus("pkg", KNOWN).files == {"pkg/models.py", "pkg/views.py"}
    assert mapper.resolve_focus("pkg/", KNOWN).files == {"pkg/models.py", "pkg/views.py"}


def test_focus_absolute_path_inside_the_workspace(mapper: RepoMapper) -> None:
    absolute = str(mapper.workspace.root / "cli.py")
    assert mapper.resolve_focus([absolute], KNOWN).files == {"cli.py"}


def test_focus_paths_not_in_the_map_are_reported(mapper: RepoMapper) -> None:
    focus = mapper.resolve_focus(["pkg/missing.py", "README.md", "cli.py"], KNOWN)
    assert focus.unknown_paths == ("pkg/missing.py", "README.md") and focus.files == {"cli.py"}


@pytest.mark.parametrize("escape", ["../outside.py", "pkg/../../x.py", "/etc/passwd", "/etc", ".."])
def test_focus_outside_the_workspace_is_refused(mapper: RepoMapper, escape: str) -> None:
    with pytest.raises(PathEscapeError, match="outside the workspace"):
        mapper.build(focus=[escape])


def test_focus_through_a_symlink_leaving_the_workspace_is_refused(
    mapper: RepoMapper, tmp_path_factory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    (mapper.workspace.root / "sneaky").symlink_to(outside)
    with pytest.raises(PathEscapeError):
        mapper.build(focus="sneaky")


def test_focus_changes_the_map(mapper: RepoMapper) -> None:
    plain = mapper.build(max_tokens=64)
    focused = mapper.build(focus="cli.py", max_tokens=64)
    assert focused.focus.files == {"cli.py"}
    assert focused.text.splitlines()[0] == "pkg/views.py:"  # what cli.py uses comes first
    assert plain.text != focused.text


def test_max_tokens_must_be_positive(mapper: RepoMapper) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        mapper.build(max_tokens=0)


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="RepoMapConfig.max_file_bytes"):
        RepoMapConfig(max_file_bytes=0)


def test_focus_with_odd_words_does_not_crash(mapper: RepoMapper) -> None:
    focus = mapper.resolve_focus(["x" * 5000, "bad\x00name", "https://example.com/a" + "b" * 4000], KNOWN)
    assert focus.files == frozenset() and "bad" in focus.identifiers


def test_workspace_inside_an_ignored_folder_of_a_repository_is_walked(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, ".gitignore", "vendor_copy/\n")
    write(tmp_path, "vendor_copy/lib/mod.py")
    assert rels(tmp_path / "vendor_copy") == ["lib/mod.py"]
