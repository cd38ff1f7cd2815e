"""What the agent needs from a model: a completion for a conversation, streamed as text deltas.

Backends return the raw assistant text (tool-call markup included) so every backend's output goes
through the same parser, repair and validation; a server backend that returns native `tool_calls`
puts them in `native_tool_calls` and the tool-calling layer validates those too.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mimo_agent.toolcalls.definition import ToolDef

Message = dict[str, Any]  # OpenAI-style chat message


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reused_prefix_tokens: int = 0


@dataclass
class Completion:
    text: str  # raw assistant output, including any <think> and tool-call markup
    finish_reason: str = "stop"  # stop | length | interrupted (the cancel token was set; `text` is partial)
    usage: Usage = field(default_factory=Usage)
    native_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str | None = None  # when the server splits reasoning out of `text`
    stats: dict[str, Any] = field(default_factory=dict)  # tokens/s, MTP accepted length, timings


class BackendError(Exception):
    """The model could not be reached or failed; the message is one line a user can act on."""


class Backend(Protocol):
    """Optional members, read with the helpers below so a backend without them still works:
    `complete(..., cancel=threading.Event)` stops generating once the event is set and returns the partial
    text with finish_reason "interrupted"; `context_limit` is the most tokens the model can hold (None:
    unknown); `count_text(text)` counts with the model's tokenizer.
    """

    name: str

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        """Generate the next assistant turn for `messages`; call `on_delta` with text as it streams."""
        ...

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        """Prompt tokens `messages` would take (the model's tokenizer where there is one)."""
        ...


def complete(
    backend: Backend,
    messages: Sequence[Message],
    tools: Sequence[ToolDef],
    *,
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Completion:
    """`backend.complete`, handing over `cancel` when the backend takes it (one that does not runs each
    completion to its end; the loop still stops before the next step)."""
    if cancel is not None and "cancel" in inspect.signature(backend.complete).parameters:
        return backend.complete(messages, tools, on_delta=on_delta, cancel=cancel)  # type: ignore[call-arg]
    return backend.complete(messages, tools, on_delta=on_delta)


def context_limit(backend: Backend) -> int | None:
    """The most tokens the backend's model can hold, when the backend knows it."""
    limit = getattr(backend, "context_limit", None)
    return limit if isinstance(limit, int) and limit > 0 else None


def text_counter(backend: Backend) -> Callable[[str], int] | None:
    """The backend's tokenizer as a text-token counter, when it has one."""
    counter = getattr(backend, "count_text", None)
    return counter if callable(counter) else None
