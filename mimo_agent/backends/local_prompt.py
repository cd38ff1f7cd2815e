"""Prompt ids for the local backends (embedded, transformers): render with the chat template, encode
only what is new.

The loop counts a conversation's tokens and then completes it, and each step's history extends the
last one. So an unchanged conversation returns the last ids, and a render that starts with the last
render's text up to its final `boundary` (ChatML's `<|im_start|>`) reuses that text's ids and encodes only
the rest. A special token is split out before BPE runs, so ids(prefix) + ids(rest) equal a full encode
when the cut is just before one; a template without the boundary is always encoded whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mimo_agent.backends.base import Message
from mimo_agent.backends.history import HistoryTracker
from mimo_agent.toolcalls.definition import ToolDef

BOUNDARY = "<|im_start|>"

Render = Callable[[list[Message], list[dict[str, Any]] | None], str]


class PromptEncoder:
    def __init__(self, render: Render, encode: Callable[[str], list[int]], boundary: str = BOUNDARY) -> None:
        """`render(messages, tools)` gives the prompt text ending with the assistant header."""
        self._render = render
        self._encode = encode
        self._boundary = boundary
        self._history = HistoryTracker()
        self._tools: tuple[str, ...] = ()
        self._ids: list[int] | None = None
        self._stable: tuple[str, list[int]] = ("", [])  # text up to the last boundary, and its ids

    def ids(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> list[int]:
        seen = len(self._history)
        kept = self._history.update(messages)
        names = tuple(t.name for t in tools)
        if self._ids is not None and kept == seen == len(messages) and names == self._tools:
            return self._ids
        self._ids = None  # a failed render below must not leave stale ids behind
        text = self._render(list(messages), [t.to_openai() for t in tools] or None)
        stable_text, stable_ids = self._stable
        if stable_text and text.startswith(stable_text):
            start, ids = len(stable_text), list(stable_ids)
        else:
            start, ids = 0, []
        cut = text.rfind(self._boundary, start)
        if cut > start:
            ids += self._encode(text[start:cut])
            self._stable = (text[:cut], list(ids))
            start = cut
        ids += self._encode(text[start:])
        self._ids, self._tools = ids, names
        return ids
