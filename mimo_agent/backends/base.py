"""What the agent needs from a model: a completion for a conversation, streamed as text deltas.

Backends return the raw assistant text (tool-call markup included) so every backend's output goes
through the same parser, repair and validation; a server backend that returns native `tool_calls`
puts them in `native_tool_calls` and the tool-calling layer validates those too.
"""

from __future__ import annotations

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
    finish_reason: str = "stop"  # stop | length | interrupted
    usage: Usage = field(default_factory=Usage)
    native_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reasoning: str | None = None  # when the server splits reasoning out of `text`
    stats: dict[str, Any] = field(default_factory=dict)  # tokens/s, MTP accepted length, timings


class BackendError(Exception):
    """The model could not be reached or failed; the message is one line a user can act on."""


class Backend(Protocol):
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
