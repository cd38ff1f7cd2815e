"""`edit(path, old_string, new_string, replace_all)`: replace one unique piece of a file (see edit_match)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.edit_match import EditError, Replacement, replace
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.textfile import TextFile, read_text
from mimo_agent.tools.writes import write_checked

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext

SNIPPET_CONTEXT = 3
SNIPPET_MAX_LINES = 30


class EditArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    old_string: str = Field(
        description="The exact text to replace, copied from read_file without line numbers, with enough "
        "surrounding lines to be unique. Empty only to create a file that does not exist yet."
    )
    new_string: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(False, description="Replace every occurrence of old_string instead of one.")


def load_for_edit(context: ToolContext, path: str) -> tuple[Path, TextFile]:
    """The real path and decoded content of an existing text file to edit; raises EditError otherwise."""
    real = context.workspace.resolve(path, for_write=True)
    if not real.is_file():
        problem = (
            "is a directory"
            if real.is_dir()
            else "is not a regular file"
            if real.exists()
            else "does not exist"
        )
        raise EditError(f"{path} {problem}; edit changes existing files (use write_file to create one).")
    return real, read_text(real, context.workspace.relative(real))


def normalise_newlines(text: TextFile, value: str) -> str:
    """The model's string in the file's in-memory form (CRLF files are held as LF)."""
    return value.replace("\r\n", "\n") if text.newline == "\r\n" else value


def snippet(text: str, first_line: int, new_string: str) -> str:
    lines = text.split("\n")
    lo = max(1, first_line - SNIPPET_CONTEXT)
    hi = min(len(lines), first_line + new_string.count("\n") + SNIPPET_CONTEXT, lo + SNIPPET_MAX_LINES - 1)
    return "\n".join(f"{n:>6}\t{lines[n - 1]}" for n in range(lo, hi + 1))


def describe(change: Replacement) -> str:
    how = "" if change.strategy == "exact" else f" (matched ignoring {change.strategy})"
    places = "1 occurrence" if change.count == 1 else f"{change.count} occurrences"
    return f"replaced {places} at line {change.line}{how}"


def run_edit(args: EditArgs, context: ToolContext) -> ToolResult:
    real = context.workspace.resolve(args.path, for_write=True)
    if args.old_string == "" and not real.exists():
        report = write_checked(context, real, args.new_string, None)
        return ToolResult(
            output=report.summary("Created"), metadata={"path": report.path, "diff": report.diff}
        )
    try:
        real, current = load_for_edit(context, args.path)
        old = normalise_newlines(current, args.old_string)
        new = normalise_newlines(current, args.new_string)
        change = replace(current.text, old, new, args.replace_all)
    except EditError as exc:
        return ToolResult.error(f"Edit of {args.path} failed: {exc}", path=args.path)
    report = write_checked(context, real, change.text, current)
    output = f"{report.summary('Edited')}: {describe(change)}\n{snippet(change.text, change.line, new)}"
    return ToolResult(
        output=output, metadata={"path": report.path, "diff": report.diff, "strategy": change.strategy}
    )


EDIT = define_tool(
    "edit",
    "Replace text in a file. old_string must match the file (copy it from read_file) and be unique unless "
    "replace_all is true. Small whitespace differences are tolerated when the match stays unique.",
    EditArgs,
    run_edit,
)
