"""Automatic compaction: over a threshold, older turns are replaced by a summary the model writes.

The system prompt, the task and the most recent turns stay verbatim. Until the threshold, history is
append-only so the engine's prefix reuse (and a server's prefix cache) keeps hitting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from mimo_agent.backends.base import Backend, BackendError, Message
from mimo_agent.settings import ContextSettings, ModelSettings
from mimo_agent.toolcalls.definition import ToolDef

SUMMARY_SYSTEM = (
    "You summarise a coding agent's earlier work so it can continue without the full transcript. Keep: "
    "what was learned about the code (files, functions, causes), what was changed and where, commands run "
    "and their results, and what remains to do. Be concise and concrete; no preamble."
)
SUMMARY_HEADER = "[Summary of earlier work: {turns} turns compacted]\n"
MAX_CHARS_PER_MESSAGE = 2_000


def turn_starts(messages: Sequence[Message], first: int) -> list[int]:
    """Indexes where a turn (an assistant message and the tool/user messages that answer it) begins."""
    return [i for i in range(first, len(messages)) if messages[i]["role"] == "assistant"]


def transcript(messages: Sequence[Message]) -> str:
    parts = []
    for m in messages:
        text = str(m.get("content") or "")
        for call in m.get("tool_calls") or []:
            fn = call["function"]
            text += f"\n→ {fn['name']}({json.dumps(fn['arguments'], ensure_ascii=False)})"
        if len(text) > MAX_CHARS_PER_MESSAGE:
            text = text[: MAX_CHARS_PER_MESSAGE // 2] + "\n[…]\n" + text[-MAX_CHARS_PER_MESSAGE // 2 :]
        parts.append(f"## {m['role']}\n{text}")
    return "\n\n".join(parts)


def mechanical_summary(messages: Sequence[Message]) -> str:
    """Used when the model cannot summarise: the list of calls made, so nothing is silently lost."""
    lines = []
    for m in messages:
        for call in m.get("tool_calls") or []:
            fn = call["function"]
            lines.append(f"- called {fn['name']}({json.dumps(fn['arguments'], ensure_ascii=False)[:200]})")
    return "Earlier tool calls (their results were dropped to save context):\n" + (
        "\n".join(lines) or "- none"
    )


class Compactor:
    def __init__(
        self, context: ContextSettings, model: ModelSettings, context_limit: int | None = None
    ) -> None:
        """`context_limit`: what the backend's model really holds (an engine smaller than the configured
        window must compact before its own limit). The answer never takes more than `max_new_tokens`."""
        self.context = context
        window = min(model.context_window, context_limit or model.context_window)
        self.budget = max(1, window - min(model.answer_reserve, model.max_new_tokens))

    def should_compact(self, prompt_tokens: int) -> bool:
        return prompt_tokens > self.context.compaction_threshold * self.budget

    def compact(self, messages: list[Message], backend: Backend, tools: Sequence[ToolDef]) -> int:
        """Summarise everything between the task and the last `keep_recent_turns` turns, in place.

        Returns the number of turns summarised (0 when there is nothing old enough to compact).
        """
        first = next((i + 1 for i, m in enumerate(messages) if m["role"] == "user"), len(messages))
        starts = turn_starts(messages, first)
        if len(starts) <= self.context.keep_recent_turns:
            return 0
        cut = starts[-self.context.keep_recent_turns]
        old = messages[first:cut]
        turns = len(starts) - self.context.keep_recent_turns
        request = [
            {"role": "system", "content": SUMMARY_SYSTEM},
            {"role": "user", "content": "Summarise this work:\n\n" + transcript(old)},
        ]
        try:
            summary = backend.complete(request, []).text.strip()
        except BackendError:
            summary = ""
        if not summary:
            summary = mechanical_summary(old)
        messages[first:cut] = [{"role": "user", "content": SUMMARY_HEADER.format(turns=turns) + summary}]
        return turns
