from __future__ import annotations

import pytest

from mimo_agent.tools.context import ToolContext
from mimo_agent.tools.edit_match import EditError, replace, visible
from tests.tools.conftest import call

TABBED = "func main() {\n\tif x {\n\t\treturn 1\n\t}\n\treturn 2\n}\n"


def test_exact_unique_replacement(ctx: ToolContext) -> None:
    result = call(ctx, "edit", path="src/app.py", old_string="return a + b", new_string="return a - b")
    assert not result.is_error
    assert "Edited src/app.py (+1 -1 lines): replaced 1 occurrence at line 2" in result.output
    assert "     2\t    return a - b" in result.output
    assert (ctx.root / "src/app.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert "-    return a + b" in result.metadata["diff"]
    assert result.metadata["strategy"] == "exact"


def test_ambiguous_match_is_refused_with_line_numbers(ctx: ToolContext) -> None:
    (ctx.root / "d.txt").write_text("x = 1\ny = 2\nx = 1\n")
    result = call(ctx, "edit", path="d.txt", old_string="x = 1", new_string="x = 3")
    assert result.is_error
    assert "occurs 2 times (at lines 1, 3)" in result.output
    assert (ctx.root / "d.txt").read_text() == "x = 1\ny = 2\nx = 1\n"


def test_replace_all(ctx: ToolContext) -> None:
    (ctx.root / "d.txt").write_text("x = 1\ny = 2\nx = 1\n")
    result = call(ctx, "edit", path="d.txt", old_string="x = 1", new_string="x = 3", replace_all=True)
    assert "replaced 2 occurrences" in result.output
    assert (ctx.root / "d.txt").read_text() == "x = 3\ny = 2\nx = 3\n"


def test_crlf_file_is_edited_with_lf_strings_and_stays_crlf(ctx: ToolContext) -> None:
    (ctx.root / "win.py").write_bytes(b"def f():\r\n    return 1\r\n\r\nprint(f())\r\n")
    result = call(
        ctx,
        "edit",
        path="win.py",
        old_string="def f():\n    return 1\n",
        new_string="def f():\n    return 2\n",
    )
    assert not result.is_error, result.output
    assert (ctx.root / "win.py").read_bytes() == b"def f():\r\n    return 2\r\n\r\nprint(f())\r\n"


def test_crlf_old_string_also_matches(ctx: ToolContext) -> None:
    (ctx.root / "win.txt").write_bytes(b"a\r\nb\r\n")
    call(ctx, "edit", path="win.txt", old_string="a\r\nb", new_string="a\r\nc")
    assert (ctx.root / "win.txt").read_bytes() == b"a\r\nc\r\n"


def test_tab_indented_exact_edit_keeps_tabs(ctx: ToolContext) -> None:
    (ctx.root / "main.go").write_text(TABBED)
    call(ctx, "edit", path="main.go", old_string="\t\treturn 1\n", new_string="\t\treturn 10\n")
    assert (ctx.root / "main.go").read_text() == TABBED.replace("return 1\n", "return 10\n")


def test_spaces_for_tabs_are_matched_and_reindented_with_tabs(ctx: ToolContext) -> None:
    (ctx.root / "main.go").write_text(TABBED)
    result = call(
        ctx,
        "edit",
        path="main.go",
        old_string="    if x {\n        return 1\n    }\n",
        new_string="    if x {\n        log(x)\n        return 1\n    }\n",
    )
    assert not result.is_error, result.output
    assert "matched ignoring indentation" in result.output
    assert (ctx.root / "main.go").read_text() == (
        "func main() {\n\tif x {\n\t\tlog(x)\n\t\treturn 1\n\t}\n\treturn 2\n}\n"
    )


def test_trailing_whitespace_cascade() -> None:
    text = "a = 1   \nb = 2\t\nc = 3\n"
    change = replace(text, "a = 1\nb = 2\n", "a = 10\nb = 20\n")
    assert change.strategy == "trailing whitespace"
    assert change.text == "a = 10\nb = 20\nc = 3\n"


def test_indentation_cascade_shifts_new_text() -> None:
    text = "class A:\n    def f(self):\n        return 1\n"
    change = replace(text, "def f(self):\n    return 1", "def f(self):\n    x = 1\n    return x")
    assert change.strategy == "indentation"
    assert change.text == "class A:\n    def f(self):\n        x = 1\n        return x\n"


def test_trimmed_lines_cascade_ignores_blank_lines_and_uneven_indent() -> None:
    text = "def f():\n    a = 1\n\n    b = 2\n    return a + b\n"
    change = replace(text, "a = 1\n  b = 2", "a = 1\nb = 3")
    assert change.strategy == "trimmed lines"
    assert change.text == "def f():\n    a = 1\n    b = 3\n    return a + b\n"


def test_escape_normalised_cascade() -> None:
    text = 'def f():\n    print("hi")\n    return 1\n'
    change = replace(text, 'print(\\"hi\\")\\n    return 1', 'print(\\"bye\\")\\n    return 2')
    assert change.strategy == "escape-normalised, exact"
    assert change.text == 'def f():\n    print("bye")\n    return 2\n'


def test_fuzzy_match_must_still_be_unique() -> None:
    text = "if a:\n    go()\nif b:\n    pass\nif a:\n  go()\n"
    with pytest.raises(EditError, match="ignoring indentation it matches 2 places"):
        replace(text, "if a:\n        go()", "if a:\n        stop()")


def test_failure_shows_nearest_lines_with_visible_whitespace(ctx: ToolContext) -> None:
    (ctx.root / "m.py").write_text("import os\n\ndef handler(event):\n\treturn event\n")
    result = call(ctx, "edit", path="m.py", old_string="def handler(evt):\n    return evt\n", new_string="x")
    assert result.is_error
    assert "old_string was not found (tried: exact, trailing whitespace, indentation" in result.output
    assert "Closest lines in the file (3-4" in result.output
    assert "     4 | →return·event¶" in result.output
    assert "       | ····return·evt¶" in result.output


def test_failure_notices_an_edit_already_applied() -> None:
    with pytest.raises(EditError, match="new_string is already in the file"):
        replace("x = 2\n", "x = 1", "x = 2")


def test_identical_and_empty_strings_are_refused(ctx: ToolContext) -> None:
    assert "identical" in call(ctx, "edit", path="src/app.py", old_string="a", new_string="a").output
    assert "old_string is empty" in call(ctx, "edit", path="src/app.py", old_string="", new_string="a").output


def test_empty_old_string_creates_a_missing_file(ctx: ToolContext) -> None:
    result = call(ctx, "edit", path="new.txt", old_string="", new_string="hello\n")
    assert result.output.startswith("Created new.txt")
    assert (ctx.root / "new.txt").read_text() == "hello\n"


def test_missing_file_and_binary_file(ctx: ToolContext) -> None:
    assert (
        "nope.py does not exist" in call(ctx, "edit", path="nope.py", old_string="a", new_string="b").output
    )
    (ctx.root / "b.bin").write_bytes(b"\x00\x01abc")
    result = call(ctx, "edit", path="b.bin", old_string="abc", new_string="x")
    assert result.is_error and "binary file" in result.output


def test_latin1_file_round_trips(ctx: ToolContext) -> None:
    (ctx.root / "l1.txt").write_bytes(b"caf\xe9 = 1\nx = 2\n")
    call(ctx, "edit", path="l1.txt", old_string="x = 2", new_string="x = 3")
    assert (ctx.root / "l1.txt").read_bytes() == b"caf\xe9 = 1\nx = 3\n"


def test_mixed_line_endings_keep_cr_on_fuzzy_line_match() -> None:
    text = "a\r\nb  \r\nc\n"
    change = replace(text, "a\nb\n", "a\nB\n")
    assert change.text == "a\r\nB\r\nc\n"


def test_syntax_error_after_edit_is_reported(ctx: ToolContext) -> None:
    result = call(ctx, "edit", path="src/app.py", old_string="def add(a, b):", new_string="def add(a, b:")
    assert not result.is_error
    assert "Syntax check (python)" in result.output


def test_syntax_problems_that_were_already_there_are_flagged(ctx: ToolContext) -> None:
    (ctx.root / "broken.py").write_text("def f(:\n    return 1\n\nx = 1\n")
    result = call(ctx, "edit", path="broken.py", old_string="x = 1", new_string="x = 2")
    assert "Syntax check (python)" in result.output
    assert "already had syntax problems before this change" in result.output


def test_visible_whitespace() -> None:
    assert visible("\t a\r") == "→·a␍¶"


def test_multi_edit_applies_in_order(ctx: ToolContext) -> None:
    edits = [
        {"old_string": "def add(a, b):", "new_string": "def add(a, b, c=0):"},
        {"old_string": "return a + b", "new_string": "return a + b + c"},
    ]
    result = call(ctx, "multi_edit", path="src/app.py", edits=edits)
    assert not result.is_error, result.output
    assert "edit 2: replaced 1 occurrence at line 2" in result.output
    assert (ctx.root / "src/app.py").read_text() == "def add(a, b, c=0):\n    return a + b + c\n"


def test_multi_edit_is_all_or_nothing(ctx: ToolContext) -> None:
    before = (ctx.root / "src/app.py").read_text()
    edits = [
        {"old_string": "def add", "new_string": "def plus"},
        {"old_string": "no such text", "new_string": "x"},
    ]
    result = call(ctx, "multi_edit", path="src/app.py", edits=edits)
    assert result.is_error
    assert "edit 2 of 2 failed" in result.output
    assert "Nothing was written (edits 1-1 matched, but the file is unchanged)" in result.output
    assert (ctx.root / "src/app.py").read_text() == before
    assert ctx.changed_paths == set()


def test_multi_edit_needs_edits(ctx: ToolContext) -> None:
    result = call(ctx, "multi_edit", path="src/app.py", edits=[])
    assert result.is_error and "edits" in result.output
