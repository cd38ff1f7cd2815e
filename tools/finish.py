"""`finish(summary)`: the model's way to end the run; the result is flagged final so the loop stops."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.result import ToolResult

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class FinishArgs(BaseModel):
    summary: str = Field(description="What you changed and why, and how you verified it.", min_length=1)


def run_finish(args: FinishArgs, context: ToolContext) -> ToolResult:
    return ToolResult(output=args.summary, metadata={"final": True, "summary": args.summary})


FINISH = define_tool(
    "finish",
    "End the task. Call it once the work is done and verified (or cannot be done), with a summary.",
    FinishArgs,
    run_finish,
)
