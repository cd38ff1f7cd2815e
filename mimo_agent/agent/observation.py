"""Keeps tool output within the context: long observations keep head and tail, the whole text goes to a file.

The file lives in the workspace's state folder, `.mimo-agent/observations/` (see tools/state.py), where
the agent's `read_file` can reach it and git never sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mimo_agent.tools.state import STATE_DIR, exclude_state_dir

HEAD_SHARE = 0.6  # errors and summaries tend to be at the end, the command echo at the start


def shape_observation(
    text: str,
    *,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    workspace: Path,
    name: str,
) -> str:
    """Return `text` unchanged when it fits, else its head and tail around a marker naming the saved file."""
    total = count_tokens(text)
    if total <= max_tokens:
        return text
    saved = workspace / STATE_DIR / "observations" / f"{name}.txt"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(text, encoding="utf-8")
    exclude_state_dir(workspace)
    lines = text.splitlines(keepends=True)
    # Keep whole lines; bisect on how many lines from each end fit the budget.
    lo, hi = 0, len(lines)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        head_n = int(mid * HEAD_SHARE)
        if count_tokens("".join(lines[:head_n] + lines[len(lines) - (mid - head_n) :])) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    head_n = int(lo * HEAD_SHARE)
    tail_n = lo - head_n
    cut = len(lines) - lo
    rel = saved.relative_to(workspace).as_posix()
    if lo == 0:  # a single enormous line: cut by characters instead
        keep = max(1, len(text) * max_tokens // max(total, 1))
        head, tail = text[: int(keep * HEAD_SHARE)], text[len(text) - (keep - int(keep * HEAD_SHARE)) :]
        return (
            f"{head}\n[… {len(text) - keep} characters cut; full output ({total} tokens) in {rel} …]\n{tail}"
        )
    marker = f"[… {cut} lines cut ({total} tokens in all); the full output is in {rel}: read it with read_file …]\n"
    return "".join(lines[:head_n]) + marker + "".join(lines[len(lines) - tail_n :])
