"""Replays recorded raw assistant outputs through the real parser, repair, permission and tool layers.

The file is JSON Lines, one JSON string per line, each a complete raw model output (tool-call markup
included). Used to reproduce a trajectory and to test the agent without a model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
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
            raise BackendError(f"{path}:{number}: expected a JSON string (one raw model output), got {type(value).__name__}")
        outputs.append(value)
    return outputs


class ReplayBackend:
    name = "replay"

    def __init__(self, outputs: Sequence[str], chunk_chars: int = 16) -> None:
        self._outputs = list(outputs)
        self._next = 0
        self._chunk = chunk_chars

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
    ) -> Completion:
        if self._next >= len(self._outputs):
            raise BackendError(f"replay exhausted after {len(self._outputs)} outputs")
        text = self._outputs[self._next]
        self._next += 1
        if on_delta is not None:
            for start in range(0, len(text), self._chunk):
                on_delta(text[start : start + self._chunk])
        usage = Usage(self.count_tokens(messages, tools), max(1, len(text) // CHARS_PER_TOKEN))
        return Completion(text=text, usage=usage)

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        chars = sum(len(json.dumps(m, ensure_ascii=False)) for m in messages)
        chars += sum(len(json.dumps(t.to_openai())) for t in tools)
        return chars // CHARS_PER_TOKEN
