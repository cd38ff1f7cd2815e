"""`grep(pattern, path, glob)`: a Python-regex search over the workspace's files, .gitignore respected."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.listing import GlobPatternError, compile_glob, list_files
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.textfile import BinaryFileError, decode

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext

MAX_LINE_CHARS = 300


class GrepArgs(BaseModel):
    pattern: str = Field(description="Python regular expression searched line by line, e.g. 'def \\w+_test'.")
    path: str = Field(".", description="File or folder to search, relative to the workspace root.")
    glob: str | None = Field(None, description="Only files matching this glob, e.g. '*.py' or 'src/**/*.ts'.")
    ignore_case: bool = Field(False, description="Case-insensitive search.")
    context_lines: int = Field(0, ge=0, le=10, description="Lines of context to show around each match.")


def run_grep(args: GrepArgs, context: ToolContext) -> ToolResult:
    ws = context.workspace
    try:
        regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
    except re.error as exc:
        return ToolResult.error(f"Invalid regular expression {args.pattern!r}: {exc}")
    target = ws.resolve(args.path)
    if not target.exists():
        return ToolResult.error(f"{args.path} does not exist in the workspace.")
    if not (target.is_dir() or target.is_file()):
        return ToolResult.error(f"{args.path} is not a regular file or folder.")
    base = target if target.is_dir() else target.parent
    try:
        name_filter = compile_glob(args.glob) if args.glob else None
    except GlobPatternError as exc:
        return ToolResult.error(str(exc))
    files = list_files(ws, base) if target.is_dir() else iter([target])
    cfg = context.config
    shown: list[str] = []
    size = 0
    matches = files_matched = cut_matches = skipped = 0
    cut_files: set[Path] = set()
    for path in files:
        if name_filter and not name_filter.match(path.relative_to(base).as_posix()):
            continue
        lines = _read_lines(path, cfg.grep_max_file_bytes)
        if lines is None:
            skipped += 1
            continue
        hits = [i for i, line in enumerate(lines) if regex.search(line)]
        if not hits:
            continue
        files_matched += 1
        matches += len(hits)
        rel = ws.relative(path)
        for i in hits:
            if len(shown) >= cfg.grep_max_matches or size >= cfg.max_output_chars:
                cut_matches += 1
                cut_files.add(path)
                continue
            block = _format_hit(rel, lines, i, args.context_lines)
            shown.append(block)
            size += len(block) + 1
    if not matches:
        note = f" ({skipped} binary or oversized files skipped)" if skipped else ""
        return ToolResult(
            output=f"No matches for {args.pattern!r} in {args.path}{note}.", metadata={"matches": 0}
        )
    footer = []
    if cut_matches:
        footer.append(f"[{cut_matches} more matches in {len(cut_files)} files not shown; narrow the search]")
    footer.append(f"[{matches} matches in {files_matched} files]")
    return ToolResult(output="\n".join(shown + footer), metadata={"matches": matches, "files": files_matched})


def _read_lines(path: Path, max_bytes: int) -> list[str] | None:
    try:
        if path.stat().st_size > max_bytes:
            return None
        return decode(path.read_bytes(), path.name).text.splitlines()
    except (BinaryFileError, OSError):
        return None


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " [...]"


def _format_hit(rel: str, lines: list[str], i: int, context: int) -> str:
    if context == 0:
        return f"{rel}:{i + 1}:{_clip(lines[i])}"
    lo, hi = max(0, i - context), min(len(lines), i + context + 1)
    out = [
        f"{rel}{':' if n == i else '-'}{n + 1}{':' if n == i else '-'}{_clip(lines[n])}"
        for n in range(lo, hi)
    ]
    return "\n".join(out) + "\n--"


GREP = define_tool(
    "grep",
    "Search file contents with a regular expression (ignored and binary files skipped). Shows "
    "path:line:text for each match, capped.",
    GrepArgs,
    run_grep,
)
