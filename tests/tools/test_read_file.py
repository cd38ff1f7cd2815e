from __future__ import annotations

from mimo_agent.tools.context import ToolConfig, ToolContext
from tests.tools.conftest import call


def test_numbered_lines_and_range(ctx: ToolContext) -> None:
    (ctx.root / "f.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    result = call(ctx, "read_file", path="f.txt", start_line=3, end_line=4)
    assert not result.is_error
    assert result.output.splitlines()[:2] == ["     3\tline 3", "     4\tline 4"]
    assert "[showing lines 3-4 of 10; use start_line=5 to read on]" in result.output
    assert result.metadata == {"path": "f.txt", "total_lines": 10}


def test_whole_file_has_no_footer(ctx: ToolContext) -> None:
    result = call(ctx, "read_file", path="src/app.py")
    assert result.output == "     1\tdef add(a, b):\n     2\t    return a + b"


def test_end_line_minus_one_means_end(ctx: ToolContext) -> None:
    (ctx.root / "f.txt").write_text("a\nb\nc\n")
    assert call(ctx, "read_file", path="f.txt", start_line=2, end_line=-1).output == "     2\tb\n     3\tc"


def test_binary_file_is_refused(ctx: ToolContext) -> None:
    (ctx.root / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    result = call(ctx, "read_file", path="blob.bin")
    assert result.is_error
    assert "blob.bin is a binary file" in result.output


def test_latin1_file_is_decoded_with_a_note(ctx: ToolContext) -> None:
    (ctx.root / "old.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    result = call(ctx, "read_file", path="old.txt")
    assert not result.is_error
    assert "not valid UTF-8; decoded as latin-1" in result.output
    assert "café crème" in result.output


def test_utf8_bom_and_crlf_are_reported_and_hidden(ctx: ToolContext) -> None:
    (ctx.root / "win.txt").write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    result = call(ctx, "read_file", path="win.txt")
    assert "encoding utf-8-sig" in result.output
    assert "CRLF line endings" in result.output
    assert "     1\tone\n     2\ttwo" in result.output
    assert "\r" not in result.output and "\ufeff" not in result.output


def test_utf16_with_bom_is_text(ctx: ToolContext) -> None:
    (ctx.root / "u16.txt").write_bytes("héllo\n".encode("utf-16"))
    result = call(ctx, "read_file", path="u16.txt")
    assert not result.is_error and "héllo" in result.output


def test_output_is_capped_by_lines_and_characters(repo) -> None:
    context = ToolContext.create(
        repo, ToolConfig(read_max_lines=5, max_output_chars=10_000, read_max_line_chars=50)
    )
    (repo / "big.txt").write_text("".join(f"{'x' * 80}\n" for _ in range(100)))
    result = call(context, "read_file", path="big.txt")
    lines = result.output.splitlines()
    assert len(lines) == 6
    assert "[... line cut, 80 characters in all]" in lines[0]
    assert lines[-1] == "[showing lines 1-5 of 100; use start_line=6 to read on]"
    small = ToolContext.create(repo, ToolConfig(max_output_chars=500))
    result = call(small, "read_file", path="big.txt")
    assert len(result.output) < 700
    assert "use start_line=" in result.output


def test_missing_file_suggests_close_names(ctx: ToolContext) -> None:
    result = call(ctx, "read_file", path="src/ap.py")
    assert result.is_error
    assert result.output == "File not found: src/ap.py. Did you mean: src/app.py?"


def test_bad_ranges_and_directories(ctx: ToolContext) -> None:
    assert "past the end" in call(ctx, "read_file", path="src/app.py", start_line=9).output
    assert "before start_line" in call(ctx, "read_file", path="src/app.py", start_line=2, end_line=1).output
    assert "is a directory" in call(ctx, "read_file", path="src").output
    assert "start_line" in call(ctx, "read_file", path="src/app.py", start_line=0).output


def test_empty_file(ctx: ToolContext) -> None:
    (ctx.root / "empty.txt").write_text("")
    result = call(ctx, "read_file", path="empty.txt")
    assert not result.is_error and result.output == "empty.txt is empty."


def test_huge_file_is_refused_with_a_way_forward(repo) -> None:
    context = ToolContext.create(repo, ToolConfig(read_max_file_bytes=1_000))
    (repo / "huge.log").write_text("x" * 2_000)
    result = call(context, "read_file", path="huge.log")
    assert result.is_error
    assert "huge.log is too large to read (2,000 bytes); use grep" in result.output
