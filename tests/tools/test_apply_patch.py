from __future__ import annotations

import subprocess

import pytest

from mimo_agent.tools.context import ToolContext
from mimo_agent.tools.patch import PatchError, apply_hunks, parse_patch
from tests.tools.conftest import call, git

APP_PATCH = """diff --git a/src/app.py b/src/app.py
--- a/src/app.py
+++ b/src/app.py
@@ -1,2 +1,3 @@
 def add(a, b):
-    return a + b
+    \"\"\"Sum.\"\"\"
+    return b + a
"""


def test_git_style_patch_applies(ctx: ToolContext) -> None:
    result = call(ctx, "apply_patch", patch=APP_PATCH)
    assert not result.is_error, result.output
    assert "Edited src/app.py (+2 -1 lines)" in result.output
    assert (ctx.root / "src/app.py").read_text() == 'def add(a, b):\n    """Sum."""\n    return b + a\n'
    assert result.metadata["paths"] == ["src/app.py"]


def test_output_of_git_diff_round_trips(ctx: ToolContext) -> None:
    """A real `git diff` (create, modify, delete) applied to a clean checkout reproduces the tree."""
    root = ctx.root
    (root / "src/app.py").write_text("def add(a, b):\n    return a + b + 0\n")
    (root / "new.txt").write_text("fresh\n")
    (root / "README.md").unlink()
    git(root, "add", "-A")
    patch = git(root, "diff", "--cached")
    git(root, "reset", "-q", "--hard")
    result = call(ctx, "apply_patch", patch=patch)
    assert not result.is_error, result.output
    assert (root / "src/app.py").read_text() == "def add(a, b):\n    return a + b + 0\n"
    assert (root / "new.txt").read_text() == "fresh\n"
    assert not (root / "README.md").exists()
    assert "Deleted README.md" in result.output and "Created new.txt" in result.output


def test_wrong_counts_and_offset_lines_still_apply(ctx: ToolContext) -> None:
    (ctx.root / "f.txt").write_text("".join(f"l{i}\n" for i in range(1, 21)))
    patch = "--- f.txt\n+++ f.txt\n@@ -3,9 +3,9 @@\n l12\n-l13\n+L13\n l14\n"
    result = call(ctx, "apply_patch", patch=patch)
    assert not result.is_error, result.output
    assert "hunk 1 applied at line 12 (stated 3)" in result.output
    assert "L13\n" in (ctx.root / "f.txt").read_text()


def test_blank_context_line_without_its_space(ctx: ToolContext) -> None:
    (ctx.root / "g.py").write_text("a = 1\n\nb = 2\n")
    patch = "--- a/g.py\n+++ b/g.py\n@@ -1,3 +1,3 @@\n a = 1\n\n-b = 2\n+b = 3\n"
    assert not call(ctx, "apply_patch", patch=patch).is_error
    assert (ctx.root / "g.py").read_text() == "a = 1\n\nb = 3\n"


def test_failing_hunk_is_named_and_nothing_changes(ctx: ToolContext) -> None:
    (ctx.root / "f.txt").write_text("one\ntwo\nthree\n")
    patch = (
        "--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-one\n+ONE\n"
        "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a * b\n+    return 0\n"
    )
    result = call(ctx, "apply_patch", patch=patch)
    assert result.is_error
    assert "Patch not applied (no file was changed)" in result.output
    assert "src/app.py: hunk 1 of 1 (@@ -1,2 +1,2 @@) does not apply" in result.output
    assert "     2 | ····return·a·+·b¶" in result.output
    assert (ctx.root / "f.txt").read_text() == "one\ntwo\nthree\n"


def test_create_existing_and_modify_missing_are_refused(ctx: ToolContext) -> None:
    create = "--- /dev/null\n+++ b/README.md\n@@ -0,0 +1 @@\n+x\n"
    assert "already exists" in call(ctx, "apply_patch", patch=create).output
    modify = "--- a/nope.txt\n+++ b/nope.txt\n@@ -1 +1 @@\n-a\n+b\n"
    assert "does not exist" in call(ctx, "apply_patch", patch=modify).output


def test_no_newline_at_end_of_file_markers(ctx: ToolContext) -> None:
    (ctx.root / "n.txt").write_text("a\nb")
    patch = "--- a/n.txt\n+++ b/n.txt\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
    assert not call(ctx, "apply_patch", patch=patch).is_error
    assert (ctx.root / "n.txt").read_text() == "a\nc\n"
    patch = "--- a/n.txt\n+++ b/n.txt\n@@ -1,2 +1,2 @@\n a\n-c\n+d\n\\ No newline at end of file\n"
    call(ctx, "apply_patch", patch=patch)
    assert (ctx.root / "n.txt").read_text() == "a\nd"


def test_crlf_file_patched_with_lf_patch(ctx: ToolContext) -> None:
    (ctx.root / "w.txt").write_bytes(b"a\r\nb\r\n")
    call(ctx, "apply_patch", patch="--- a/w.txt\n+++ b/w.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n")
    assert (ctx.root / "w.txt").read_bytes() == b"a\r\nc\r\n"


def test_rename_with_change(ctx: ToolContext) -> None:
    patch = (
        "diff --git a/src/app.py b/src/calc.py\nsimilarity index 80%\nrename from src/app.py\n"
        "rename to src/calc.py\n--- a/src/app.py\n+++ b/src/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
        "-    return a + b\n+    return a + b  # renamed\n"
    )
    result = call(ctx, "apply_patch", patch=patch)
    assert not result.is_error, result.output
    assert not (ctx.root / "src/app.py").exists()
    assert (ctx.root / "src/calc.py").read_text().endswith("# renamed\n")


def test_fenced_patch_and_matches_git_apply(ctx: ToolContext, tmp_path) -> None:
    """Our applier and `git apply` agree on the same patch."""
    fenced = "```diff\n" + APP_PATCH + "```\n"
    assert not call(ctx, "apply_patch", patch=fenced).is_error
    ours = (ctx.root / "src/app.py").read_text()
    git(ctx.root, "checkout", "-q", "--", "src/app.py")
    subprocess.run(["git", "apply", "-"], cwd=ctx.root, input=APP_PATCH, text=True, check=True)
    assert (ctx.root / "src/app.py").read_text() == ours


def test_syntax_check_runs_on_patched_files(ctx: ToolContext) -> None:
    patch = "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,2 +1,2 @@\n-def add(a, b):\n+def add(a, b:\n     return a + b\n"
    result = call(ctx, "apply_patch", patch=patch)
    assert "Syntax check (python)" in result.output


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("just some text\n", "no file changes found"),
        ("@@ -1 +1 @@\n-a\n+b\n", "before any '--- a/file'"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n a\n", "changes nothing"),
        ("--- a/x\n+++ b/x\n@@ -1,x +1 @@\n-a\n", "malformed hunk header"),
    ],
)
def test_malformed_patches(patch: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        parse_patch(patch)


def test_bare_hunk_headers_are_placed_by_context(ctx: ToolContext) -> None:
    """Models trained on other patch formats often write `@@` without line numbers."""
    (ctx.root / "f.py").write_text("a = 1\nb = 2\nc = 3\nb = 2\n")
    patch = "--- a/f.py\n+++ b/f.py\n@@\n c = 3\n-b = 2\n+b = 20\n@@ def g():\n"
    result = call(ctx, "apply_patch", patch=patch + " a = 1\n")
    assert result.is_error  # the second hunk changes nothing
    result = call(ctx, "apply_patch", patch=patch.replace("@@ def g():\n", ""))
    assert not result.is_error, result.output
    assert (ctx.root / "f.py").read_text() == "a = 1\nb = 2\nc = 3\nb = 20\n"


def test_apply_hunks_multiple_hunks_track_offsets() -> None:
    text = "".join(f"{i}\n" for i in range(1, 11))
    patch = parse_patch("--- a/f\n+++ b/f\n@@ -2 +2,2 @@\n-2\n+2a\n+2b\n@@ -8 +9 @@\n-8\n+8x\n")[0]
    new, remarks = apply_hunks(text, patch)
    assert new == "1\n2a\n2b\n3\n4\n5\n6\n7\n8x\n9\n10\n"
    assert remarks == []


def test_empty_separator_lines_are_not_context_but_a_space_line_is() -> None:
    text = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+b\n \n\n\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-x\n+y\n"
    first, second = parse_patch(text)
    assert first.hunks[0].lines == [("-", "a"), ("+", "b"), (" ", "")]
    assert second.hunks[0].lines == [("-", "x"), ("+", "y")]


def test_ctrl_c_between_files_rolls_every_file_back(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: only an OSError rolled back, so Ctrl-C mid-patch left the first file patched."""
    import mimo_agent.tools.apply_patch as apply_patch

    patch = APP_PATCH + "--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
    real = apply_patch._execute
    done: list[object] = []

    def interrupted(context: ToolContext, plan: object) -> object:
        if done:
            raise KeyboardInterrupt
        done.append(plan)
        return real(context, plan)

    monkeypatch.setattr(apply_patch, "_execute", interrupted)
    before = (ctx.root / "src/app.py").read_text()
    with pytest.raises(KeyboardInterrupt):
        call(ctx, "apply_patch", patch=patch)
    assert done and (ctx.root / "src/app.py").read_text() == before
    assert not (ctx.root / "src/new.py").exists()
