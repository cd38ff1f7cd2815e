from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mimo_agent.tools.context import ToolConfig, ToolContext
from mimo_agent.tools.listing import GlobPatternError, compile_glob
from tests.tools.conftest import call


@pytest.fixture
def tree(ctx: ToolContext) -> ToolContext:
    root = ctx.root
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("GENERATED = 'needle'\n")
    (root / "debug.log").write_text("needle in a log\n")
    (root / "src" / "util.py").write_text("def needle():\n    return 'needle'\n")
    (root / "web").mkdir()
    (root / "web" / "a.ts").write_text("export const needle = 1;\n")
    (root / "web" / "b.tsx").write_text("export const B = () => null;\n")
    (root / "data.bin").write_bytes(b"needle\x00\x01\x02")
    now = time.time()
    os.utime(root / "web" / "b.tsx", (now + 10, now + 10))
    return ctx


@pytest.mark.parametrize(
    ("pattern", "path", "name"),
    [
        ("*.py", "a/b/c.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/a/b/c.py", True),
        ("**/*.{ts,tsx}", "web/b.tsx", True),
        ("file?.txt", "file1.txt", True),
        ("[!a]*.py", "a.py", False),
    ],
)
def test_glob_patterns(pattern: str, path: str, name: bool) -> None:
    assert bool(compile_glob(pattern).match(path)) is name


@pytest.mark.parametrize("pattern", ["../x", "/etc/*", "~/x", ""])
def test_glob_pattern_refusals(pattern: str) -> None:
    with pytest.raises(GlobPatternError):
        compile_glob(pattern)


def test_glob_respects_gitignore_and_sorts_by_mtime(tree: ToolContext) -> None:
    result = call(tree, "glob", pattern="**")
    names = result.output.splitlines()
    assert names[0] == "web/b.tsx"
    assert "build/gen.py" not in names and "debug.log" not in names
    assert {"src/app.py", "src/util.py", "README.md", ".gitignore"} <= set(names)


def test_glob_by_name_in_a_folder(tree: ToolContext) -> None:
    assert call(tree, "glob", pattern="*.py", path="src", sort="name").output == "src/app.py\nsrc/util.py"
    assert call(tree, "glob", pattern="*.{ts,tsx}", sort="name").output == "web/a.ts\nweb/b.tsx"


def test_glob_cap_counts_the_rest(repo: Path) -> None:
    for i in range(30):
        (repo / f"f{i:02}.txt").write_text("x")
    context = ToolContext.create(repo, ToolConfig(list_max_results=10))
    result = call(context, "glob", pattern="*.txt", sort="name")
    assert result.output.splitlines()[-1] == "[20 more files not shown; narrow the pattern or path]"
    assert result.metadata["count"] == 30


def test_glob_no_match_and_bad_folder(tree: ToolContext) -> None:
    assert "No files match" in call(tree, "glob", pattern="*.rs").output
    assert call(tree, "glob", pattern="*", path="README.md").is_error


def test_glob_outside_a_git_repo_skips_noise_folders(tmp_path: Path) -> None:
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "i.js").write_text("")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "v.py").write_text("")
    (tmp_path / "keep.js").write_text("")
    context = ToolContext.create(tmp_path)
    assert call(context, "glob", pattern="**").output == "keep.js"


def test_grep_respects_gitignore_and_skips_binaries(tree: ToolContext) -> None:
    result = call(tree, "grep", pattern="needle")
    lines = result.output.splitlines()
    assert "src/util.py:1:def needle():" in lines
    assert "web/a.ts:1:export const needle = 1;" in lines
    assert not any(line.startswith(("build/", "debug.log", "data.bin")) for line in lines)
    assert lines[-1] == "[3 matches in 2 files]"


def test_grep_glob_filter_case_and_context(tree: ToolContext) -> None:
    result = call(tree, "grep", pattern="NEEDLE", glob="*.ts", ignore_case=True)
    assert result.output.splitlines()[0] == "web/a.ts:1:export const needle = 1;"
    result = call(tree, "grep", pattern="return", path="src/util.py", context_lines=1)
    assert result.output.splitlines()[:2] == [
        "src/util.py-1-def needle():",
        "src/util.py:2:    return 'needle'",
    ]


def test_grep_cap_reports_what_was_cut(repo: Path) -> None:
    (repo / "many.txt").write_text("hit\n" * 50)
    (repo / "more.txt").write_text("hit\n" * 5)
    context = ToolContext.create(repo, ToolConfig(grep_max_matches=10))
    lines = call(context, "grep", pattern="^hit$").output.splitlines()
    assert len(lines) == 12
    assert lines[-2] == "[45 more matches in 2 files not shown; narrow the search]"
    assert lines[-1] == "[55 matches in 2 files]"


def test_grep_errors(tree: ToolContext) -> None:
    assert "Invalid regular expression" in call(tree, "grep", pattern="(").output
    assert "does not exist" in call(tree, "grep", pattern="x", path="nope").output
    assert "No matches" in call(tree, "grep", pattern="zzz_not_there").output


def test_grep_reads_latin1_files(tree: ToolContext) -> None:
    (tree.root / "l1.txt").write_bytes(b"caf\xe9 needle\n")
    assert "l1.txt:1:café needle" in call(tree, "grep", pattern="café").output
