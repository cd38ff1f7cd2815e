from __future__ import annotations

from mimo_agent.tools.context import ToolContext
from tests.tools.conftest import call


def test_creates_file_and_parents(ctx: ToolContext) -> None:
    result = call(ctx, "write_file", path="pkg/sub/mod.py", content="x = 1\n")
    assert not result.is_error
    assert result.output.startswith("Created pkg/sub/mod.py (+1 -0 lines)")
    assert (ctx.root / "pkg/sub/mod.py").read_text() == "x = 1\n"
    assert result.metadata["path"] == "pkg/sub/mod.py"
    assert "+++ b/pkg/sub/mod.py" in result.metadata["diff"]
    assert "pkg/sub/mod.py" in ctx.changed_paths


def test_overwrite_keeps_crlf_and_bom(ctx: ToolContext) -> None:
    (ctx.root / "win.txt").write_bytes(b"\xef\xbb\xbfold\r\n")
    result = call(ctx, "write_file", path="win.txt", content="new\nlines\n")
    assert result.output.startswith("Overwrote win.txt")
    assert (ctx.root / "win.txt").read_bytes() == b"\xef\xbb\xbfnew\r\nlines\r\n"


def test_overwrite_keeps_executable_bit(ctx: ToolContext) -> None:
    script = ctx.root / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    call(ctx, "write_file", path="run.sh", content="#!/bin/sh\necho hi\n")
    assert script.stat().st_mode & 0o777 == 0o755


def test_latin1_file_that_cannot_hold_new_text_becomes_utf8(ctx: ToolContext) -> None:
    (ctx.root / "old.txt").write_bytes(b"caf\xe9\n")
    result = call(ctx, "write_file", path="old.txt", content="snow ☃\n")
    assert "written as UTF-8" in result.output
    assert (ctx.root / "old.txt").read_text(encoding="utf-8") == "snow ☃\n"


def test_syntax_error_is_reported_but_file_written(ctx: ToolContext) -> None:
    result = call(ctx, "write_file", path="bad.py", content="def f(:\n    return 1\n")
    assert not result.is_error
    assert "Syntax check (python) found 1 problem(s) in bad.py" in result.output
    assert ">     1 | def f(:" in result.output
    assert (ctx.root / "bad.py").exists()


def test_valid_code_has_no_syntax_report(ctx: ToolContext) -> None:
    result = call(ctx, "write_file", path="ok.py", content="def f():\n    return 1\n")
    assert "Syntax" not in result.output


def test_directory_and_missing_arguments(ctx: ToolContext) -> None:
    assert "is a directory" in call(ctx, "write_file", path="src", content="").output
    result = call(ctx, "write_file", path="x.txt")
    assert result.is_error
    assert result.output == "Invalid arguments for write_file:\n  content: Field required"
