"""Replays recorded raw assistant outputs through the real parser, repair, permission and tool layers.

The file is JSON Lines, one JSON string per line, each a complete raw model output (tool-call markup
included). Used to reproduce a trajectory and to test the agent without a model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.backends.history import HistoryTracker
from mimo_agent.toolcalls.definition import ToolDef

CHARS_PER_TOKEN = 4  # no tokenizer here: a stable estimate for budgets and context accounting


def load_replay(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BackendError(f"{path}: cannot read replay file: {exc.strerror}") from exc
    outputs: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BackendError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(value, str):
            raise BackendError(
                f"{path}:{number}: expected a JSON string (one raw model output), got {type(value).__name__}"
            )
        outputs.append(value)
    return outputs


class ReplayBackend:
    name = "replay"

    def __init__(self, outputs: Sequence[str], chunk_chars: int = 16, chunk_delay: float = 0.0) -> None:
        """`chunk_delay` seconds between streamed chunks let tests interrupt a reply mid-stream."""
        self._outputs = list(outputs)
        self._next = 0
        self._chunk = chunk_chars
        self._delay = chunk_delay
        self._history = HistoryTracker()
        self._message_chars: list[int] = []  # per message of the last counted history
        self._tool_chars: dict[str, int] = {}

    @classmethod
    def from_file(cls, path: Path) -> ReplayBackend:
        return cls(load_replay(path))

    @property
    def remaining(self) -> int:
        return len(self._outputs) - self._next

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion:
        if self._next >= len(self._outputs):
            raise BackendError(f"replay exhausted after {len(self._outputs)} outputs")
        text = self._outputs[self._next]
        self._next += 1
        finish = "stop"
        stop = cancel or threading.Event()
        for start in range(0, len(text), self._chunk):
            if stop.wait(self._delay) if self._delay else stop.is_set():
                text, finish = text[:start], "interrupted"
                break
            if on_delta is not None:
                on_delta(text[start : start + self._chunk])
        usage = Usage(self.count_tokens(messages, tools), max(1, len(text) // CHARS_PER_TOKEN))
        return Completion(text=text, finish_reason=finish, usage=usage)

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        # Called twice per step on a growing history: only new messages are serialised.
        kept = self._history.update(messages)
        del self._message_chars[kept:]
        self._message_chars.extend(len(json.dumps(m, ensure_ascii=False)) for m in messages[kept:])
        for tool in tools:
            if tool.name not in self._tool_chars:
                self._tool_chars[tool.name] = len(json.dumps(tool.to_openai()))
        return (sum(self._message_chars) + sum(self._tool_chars[t.name] for t in tools)) // CHARS_PER_TOKEN
