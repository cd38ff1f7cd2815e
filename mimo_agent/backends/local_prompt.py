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


def split_boundary(tokenizer: Any, boundary: str = BOUNDARY) -> str | None:
    """`boundary` when the (Hugging Face) tokenizer splits it out as one added token that takes no
    neighbouring whitespace, so an encode may be cut just before it; else None (encode whole)."""
    for token in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(token, "content", None) == boundary:
            return None if token.lstrip or token.rstrip else boundary
    return None


class PromptEncoder:
    def __init__(self, render: Render, encode: Callable[[str], list[int]], boundary: str | None) -> None:
        """`render(messages, tools)` gives the prompt text ending with the assistant header; `boundary`
        (see `split_boundary`) None: every changed prompt is encoded whole."""
        self._render = render
        self._encode = encode
        self._boundary = boundary
        self._history = HistoryTracker()
        self._tools: list[dict[str, Any]] = []
        self._ids: list[int] | None = None
        self._stable: tuple[str, list[int]] = ("", [])  # text up to the last boundary, and its ids

    def ids(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> list[int]:
        seen = len(self._history)
        kept = self._history.update(messages)
        specs = [t.to_openai() for t in tools]  # the whole definitions: a changed schema re-renders
        if self._ids is not None and kept == seen == len(messages) and specs == self._tools:
            return self._ids
        self._ids = None  # a failed render below must not leave stale ids behind
        text = self._render(list(messages), specs or None)
        stable_text, stable_ids = self._stable
        if stable_text and text.startswith(stable_text):
            start, ids = len(stable_text), list(stable_ids)
        else:
            start, ids = 0, []
        cut = text.rfind(self._boundary, start) if self._boundary else -1
        if cut > start:
            ids += self._encode(text[start:cut])
            self._stable = (text[:cut], list(ids))
            start = cut
        ids += self._encode(text[start:])
        self._ids, self._tools = ids, specs
        return ids
