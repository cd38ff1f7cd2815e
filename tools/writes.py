"""The tail end of every file-changing tool: write, record, diff for the UI, syntax-check for the model."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mimo_agent.tools.syntax import find_problems, syntax_report
from mimo_agent.tools.textfile import TextFile, write_text

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


@dataclass(frozen=True)
class WriteReport:
    path: str  # workspace-relative
    diff: str
    added: int
    removed: int
    note: str  # encoding remark, if any
    syntax: str  # empty when the file parses

    def summary(self, verb: str) -> str:
        lines = [f"{verb} {self.path} (+{self.added} -{self.removed} lines)"]
        if self.note:
            lines.append(f"Note: {self.note}")
        if self.syntax:
            lines.append(self.syntax)
        return "\n".join(lines)


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    old_lines = (old or "").splitlines(keepends=True)
    new_lines = (new or "").splitlines(keepends=True)
    fromfile = "/dev/null" if old is None else f"a/{path}"
    tofile = "/dev/null" if new is None else f"b/{path}"
    diff = difflib.unified_diff(old_lines, new_lines, fromfile=fromfile, tofile=tofile)
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff
    )


def encode_like(text: str, like: TextFile | None) -> tuple[TextFile, str]:
    """The TextFile to write `text` with, keeping `like`'s format when it can encode the text."""
    like = like or TextFile(text="")
    try:
        like.encode(text)
    except UnicodeEncodeError:
        return TextFile(
            text="", newline=like.newline
        ), f"the new text is not {like.encoding}; written as UTF-8"
    return like, ""


def write_checked(context: ToolContext, real: Path, new_text: str, old: TextFile | None) -> WriteReport:
    """Write `new_text` in `old`'s encoding and line endings, record the path and check its syntax."""
    fmt, note = encode_like(new_text, old)
    write_text(real, new_text, fmt)
    rel = context.workspace.relative(real)
    context.changed_paths.add(rel)
    old_text = None if old is None else old.text
    diff = unified_diff(rel, old_text, new_text)
    added = sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    syntax = syntax_report(rel, new_text) if context.config.syntax_check else ""
    if syntax and old_text and find_problems(rel, old_text)[1]:
        syntax += "\n(The file already had syntax problems before this change.)"
    return WriteReport(rel, diff, added, removed, note, syntax)
