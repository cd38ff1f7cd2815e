"""`multi_edit(path, edits)`: several edits to one file, applied in order, all or nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.edit import describe, load_for_edit, normalise_newlines
from mimo_agent.tools.edit_match import EditError, replace
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.writes import write_checked

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class EditSpec(BaseModel):
    old_string: str = Field(description="Exact text to replace (after the previous edits were applied).")
    new_string: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(False, description="Replace every occurrence instead of one.")


class MultiEditArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    edits: list[EditSpec] = Field(
        min_length=1, description="Edits applied in order, each to the result of the previous one."
    )


def run_multi_edit(args: MultiEditArgs, context: ToolContext) -> ToolResult:
    try:
        real, current = load_for_edit(context, args.path)
    except EditError as exc:
        return ToolResult.error(f"multi_edit of {args.path} failed: {exc}", path=args.path)
    text = current.text
    done: list[str] = []
    for number, spec in enumerate(args.edits, start=1):
        old = normalise_newlines(current, spec.old_string)
        new = normalise_newlines(current, spec.new_string)
        try:
            change = replace(text, old, new, spec.replace_all)
        except EditError as exc:
            matched = f"edits 1-{number - 1} matched, but " if done else ""
            return ToolResult.error(
                f"multi_edit of {args.path}: edit {number} of {len(args.edits)} failed: {exc}\n"
                f"Nothing was written ({matched}the file is unchanged). Resend all edits with edit {number} fixed.",
                path=args.path,
            )
        text = change.text
        done.append(f"  edit {number}: {describe(change)}")
    report = write_checked(context, real, text, current)
    return ToolResult(
        output=report.summary("Edited") + "\n" + "\n".join(done),
        metadata={"path": report.path, "diff": report.diff},
    )


MULTI_EDIT = define_tool(
    "multi_edit",
    "Apply several edits to one file atomically: each edit sees the result of the previous ones; if any "
    "edit fails, none is written.",
    MultiEditArgs,
    run_multi_edit,
)
