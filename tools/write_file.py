"""`write_file(path, content)`: create or overwrite a file, keeping an existing file's encoding and line endings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.textfile import BinaryFileError, TextFile, read_text
from mimo_agent.tools.writes import write_checked

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class WriteFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root; parent folders are created.")
    content: str = Field(description="The complete new content of the file.")


def run_write_file(args: WriteFileArgs, context: ToolContext) -> ToolResult:
    real = context.workspace.resolve(args.path, for_write=True)
    if real.is_dir():
        return ToolResult.error(f"{args.path} is a directory; give a file path.")
    if real.exists() and not real.is_file():
        return ToolResult.error(f"{args.path} is not a regular file (a device, socket or pipe).")
    old: TextFile | None = None
    if real.exists():
        try:
            old = read_text(real, args.path)
        except BinaryFileError:
            old = TextFile(text="")
    report = write_checked(context, real, args.content, old)
    verb = "Overwrote" if old is not None else "Created"
    return ToolResult(output=report.summary(verb), metadata={"path": report.path, "diff": report.diff})


WRITE_FILE = define_tool(
    "write_file",
    "Create a file or replace its whole content. Prefer edit for changing part of an existing file.",
    WriteFileArgs,
    run_write_file,
)
