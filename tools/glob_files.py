"""`glob(pattern, path)`: files matching a pattern, newest first, .gitignore respected, capped."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.listing import GlobPatternError, compile_glob, list_files
from mimo_agent.tools.result import ToolResult

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class GlobArgs(BaseModel):
    pattern: str = Field(
        "**",
        description="Glob relative to `path`: '**/*.py', 'src/*.ts', '*.{js,jsx}'. A pattern without '/' "
        "matches file names at any depth. Default '**' lists every file.",
    )
    path: str = Field(".", description="Folder to search, relative to the workspace root.")
    sort: Literal["mtime", "name"] = Field(
        "mtime", description="mtime: most recently modified first; or name."
    )


def run_glob(args: GlobArgs, context: ToolContext) -> ToolResult:
    ws = context.workspace
    base = ws.resolve(args.path)
    if not base.is_dir():
        return ToolResult.error(f"{args.path} is not a folder in the workspace.")
    try:
        regex = compile_glob(args.pattern)
    except GlobPatternError as exc:
        return ToolResult.error(str(exc))
    found = [p for p in list_files(ws, base) if regex.match(p.relative_to(base).as_posix())]
    if args.sort == "mtime":
        found.sort(key=lambda p: (-_mtime(p), p.as_posix()))
    else:
        found.sort(key=lambda p: p.as_posix())
    limit = context.config.list_max_results
    shown = [ws.relative(p) for p in found[:limit]]
    if not shown:
        return ToolResult(output=f"No files match {args.pattern!r} under {args.path}.", metadata={"count": 0})
    extra = len(found) - len(shown)
    tail = [f"[{extra} more files not shown; narrow the pattern or path]"] if extra else []
    return ToolResult(output="\n".join(shown + tail), metadata={"count": len(found)})


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


GLOB = define_tool(
    "glob",
    "List files matching a glob pattern (ignored files skipped, most recently modified first). Use it to "
    "find files by name or to list a folder.",
    GlobArgs,
    run_glob,
)
