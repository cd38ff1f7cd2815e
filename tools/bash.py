"""`bash(command, timeout)`: run a command in the persistent session (see shell.py)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.state import STATE_DIR, exclude_state_dir

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext


class BashArgs(BaseModel):
    command: str = Field(
        min_length=1,
        description="A bash command. The working directory and exported variables persist between calls; "
        "there is no stdin and no terminal, so never start editors, pagers or interactive prompts. "
        "Background jobs are stopped when the command ends.",
    )
    timeout: float | None = Field(
        None, gt=0, description="Seconds before the command and all its children are killed (default 120)."
    )


def run_bash(args: BashArgs, context: ToolContext) -> ToolResult:
    cfg = context.config
    timeout = min(args.timeout or cfg.bash_timeout, cfg.bash_max_timeout)
    full = context.root / STATE_DIR / "bash" / f"output-{secrets.token_hex(4)}.txt"  # used only when cut
    result = context.shell.run(
        args.command,
        timeout=timeout,
        max_output_chars=cfg.max_output_chars,
        cancel=context.cancel,
        save_full=full,
    )
    if result.full_output is not None:
        exclude_state_dir(context.root)
    output = result.output.rstrip("\n")
    if result.interrupted:
        status = "[interrupted by the user; the command and its child processes were killed]"
    elif result.timed_out:
        status = f"[timed out after {timeout:g}s; the command and its child processes were killed]"
    else:
        status = f"[exit code {result.exit_code}]"
    notes = []
    if not context.workspace.contains(result.cwd):
        notes.append(f"[working directory is now {result.cwd}, outside the workspace]")
    text = "\n".join(part for part in (output or "(no output)", status, *notes) if part)
    metadata = {
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "duration_s": round(result.duration_s, 3),
        "cwd": str(result.cwd),
        "interrupted": result.interrupted,
    }
    if result.full_output is not None:
        metadata["full_output"] = context.workspace.relative(result.full_output)
    return ToolResult(output=text, is_error=result.exit_code != 0, metadata=metadata)


BASH = define_tool(
    "bash",
    "Run a shell command in the workspace (tests, builds, git, search). Output is capped, keeping its start "
    "and end.",
    BashArgs,
    run_bash,
)
