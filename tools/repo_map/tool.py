"""`repo_map(focus, max_tokens)`: the most relevant definitions of the repository, ranked and cut to a budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.result import ToolResult

from .cache import TagCacheError
from .languages import GrammarMissingError
from .mapper import RepoMapper
from .render import estimate_tokens

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class RepoMapArgs(BaseModel):
    focus: str | list[str] | None = Field(
        None,
        description=(
            "What to centre the map on: file or folder paths and identifiers, as a list or as free text "
            "(paths and identifiers in it are picked out). Omit for the whole repository."
        ),
    )
    max_tokens: int = Field(1024, ge=64, le=8192, description="Token budget of the map.")


def run_repo_map(args: RepoMapArgs, context: ToolContext) -> ToolResult:
    notes = []
    count = context.count_tokens or estimate_tokens
    try:
        try:
            # One mapper per run keeps tags and the last ranking in memory between calls.
            if "repo_map" not in context.state:
                context.state["repo_map"] = RepoMapper(context.root)
            result = context.state["repo_map"].build(args.focus, args.max_tokens, count)
        except TagCacheError as exc:  # a read-only or full disk costs speed, not the map
            notes.append(f"tag cache not used: {exc}")
            result = RepoMapper(context.root, cache_dir=None).build(args.focus, args.max_tokens, count)
    except GrammarMissingError as exc:
        return ToolResult.error(f"repo_map is unavailable: {exc}")
    if result.focus.unknown_paths:
        notes.append(
            "focus paths not in the map (missing, or not a mapped source file): "
            + ", ".join(result.focus.unknown_paths)
        )
    if not result.text:
        body = (
            f"No definitions fit in {args.max_tokens} tokens; raise max_tokens."
            if result.files
            else "No source files in a mapped language were found in the workspace."
        )
    else:
        body = result.text.rstrip("\n")
    header = [f"[note: {note}]" for note in notes]
    metadata = {
        "files": result.files,
        "parsed": result.parsed,
        "cached": result.cached,
        "definitions_shown": result.definitions_shown,
        "seconds": round(result.seconds, 3),
    }
    return ToolResult(output="\n".join([*header, body]), metadata=metadata)


REPO_MAP = define_tool(
    "repo_map",
    "A map of the repository: the most important classes, functions and other definitions, with file paths "
    "and line numbers, ranked by how the code references them and centred on `focus`. Use it to find "
    "where things are before reading files.",
    RepoMapArgs,
    run_repo_map,
)
