"""`read_file(path, start_line, end_line)`: numbered lines of a text file, refusing binaries."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.textfile import read_text

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class ReadFileArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace root.")
    start_line: int | None = Field(None, ge=1, description="First line to show (1-based). Default: 1.")
    end_line: int | None = Field(
        None, ge=-1, description="Last line to show (inclusive); -1 or omitted for the end of the file."
    )


def _not_found(context: ToolContext, path: str) -> ToolResult:
    real = context.workspace.resolve(path)
    parent = real.parent
    hint = ""
    if parent.is_dir():
        names = [p.name for p in parent.iterdir()]
        close = difflib.get_close_matches(real.name, names, n=3)
        if close:
            rel = context.workspace.relative(parent)
            shown = [name if rel == "." else f"{rel}/{name}" for name in close]
            hint = f" Did you mean: {', '.join(shown)}?"
    return ToolResult.error(f"File not found: {path}.{hint}")


def run_read_file(args: ReadFileArgs, context: ToolContext) -> ToolResult:
    real = context.workspace.resolve(args.path)
    if not real.exists():
        return _not_found(context, args.path)
    if real.is_dir():
        return ToolResult.error(f"{args.path} is a directory; use glob to list its files.")
    if not real.is_file():
        return ToolResult.error(
            f"{args.path} is not a regular file (a device, socket or pipe); it cannot be read."
        )
    rel = context.workspace.relative(real)
    file_size = real.stat().st_size
    if file_size > context.config.read_max_file_bytes:
        return ToolResult.error(
            f"{rel} is too large to read ({file_size:,} bytes); use grep to find the lines you need, or bash "
            "(e.g. sed -n '100,200p' FILE) to print a range."
        )
    text = read_text(real, rel)
    lines = text.text.splitlines()
    total = len(lines)
    meta = {"path": rel, "total_lines": total}
    if total == 0:
        return ToolResult(output=f"{rel} is empty.", metadata=meta)
    start = args.start_line or 1
    end = total if args.end_line in (None, -1) else min(args.end_line, total)
    if start > total:
        return ToolResult.error(f"start_line {start} is past the end of {rel} ({total} lines).", **meta)
    if end < start:
        return ToolResult.error(f"end_line {end} is before start_line {start}.", **meta)
    cfg = context.config
    end = min(end, start + cfg.read_max_lines - 1)
    out: list[str] = []
    size = 0
    shown_end = start - 1
    for number in range(start, end + 1):
        line = lines[number - 1]
        if len(line) > cfg.read_max_line_chars:
            line = line[: cfg.read_max_line_chars] + f" [... line cut, {len(line):,} characters in all]"
        entry = f"{number:>6}\t{line}"
        if out and size + len(entry) + 1 > cfg.max_output_chars:
            break
        out.append(entry)
        size += len(entry) + 1
        shown_end = number
    header = [f"[note: {text.note}]"] if text.note else []
    footer = []
    if shown_end < total:
        footer.append(
            f"[showing lines {start}-{shown_end} of {total}; use start_line={shown_end + 1} to read on]"
        )
    return ToolResult(output="\n".join(header + out + footer), metadata=meta)


READ_FILE = define_tool(
    "read_file",
    "Read a text file with line numbers. Use start_line/end_line for large files. Binary files are refused.",
    ReadFileArgs,
    run_read_file,
)
