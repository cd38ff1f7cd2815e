"""Typed events the agent emits; the CLI prints them as JSON lines, the TUI turns them into widgets.

Each event serialises as `{"type": ..., "time": ..., "payload": {...}}` (the `--json` stream format).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str] = "event"
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        payload = asdict(self)
        payload.pop("time")
        return {"type": self.type, "time": round(self.time, 3), "payload": payload}


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    type: ClassVar[str] = "run_started"
    task: str
    workspace: str
    backend: str
    base_commit: str | None = None


@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    type: ClassVar[str] = "step_started"
    step: int
    prompt_tokens: int


@dataclass(frozen=True, kw_only=True)
class AssistantDelta(Event):
    type: ClassVar[str] = "assistant_delta"
    text: str


@dataclass(frozen=True, kw_only=True)
class AssistantMessage(Event):
    type: ClassVar[str] = "assistant_message"
    step: int
    content: str
    reasoning: str | None
    raw: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ToolCallParsed(Event):
    type: ClassVar[str] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]
    repairs: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ToolCallInvalid(Event):
    type: ClassVar[str] = "tool_call_invalid"
    errors: list[str]
    feedback: str


@dataclass(frozen=True, kw_only=True)
class PermissionDecided(Event):
    type: ClassVar[str] = "permission"
    call_id: str
    name: str
    allowed: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class ToolFinished(Event):
    type: ClassVar[str] = "tool_result"
    call_id: str
    name: str
    output: str
    is_error: bool
    seconds: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """Something the agent told the model on its own: a loop nudge, a format reminder."""

    type: ClassVar[str] = "notice"
    kind: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Compacted(Event):
    type: ClassVar[str] = "compacted"
    tokens_before: int
    tokens_after: int
    turns_summarised: int


@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    type: ClassVar[str] = "run_finished"
    outcome: dict[str, Any]
    steps: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
