"""A scripted expert as an agent backend: it reads the real tools' observations and writes the next turn.

The script is a generator: it yields one raw assistant output (MiMo XML tool calls included) and is
sent the tool observations that answered it. Anything else the loop puts in the conversation (feedback
on an invalid call, a loop nudge) means the expert went wrong, so the run stops with an error and the
trajectory is discarded.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.evals.tiny_model.render import render
from mimo_agent.toolcalls.definition import ToolDef

CHARS_PER_TOKEN = 4.5  # measured for the demo tokenizer on rendered trajectories; the expert has none
Script = Generator[str, list[str], None]


class ExpertError(BackendError):
    """The expert could not go on (an observation it did not expect, or feedback from the loop)."""


class ExpertBackend:
    name = "expert"

    def __init__(self, script: Script) -> None:
        self._script = script
        self._started = False
        self.outputs: list[str] = []

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        try:
            text = self._script.send(_observations(messages)) if self._started else next(self._script)
        except StopIteration as stop:
            raise ExpertError("the expert's script ended without calling finish") from stop
        self._started = True
        self.outputs.append(text)
        if on_delta is not None:
            on_delta(text)
        usage = Usage(self.count_tokens(messages, tools), max(1, int(len(text) / CHARS_PER_TOKEN)))
        return Completion(text=text, usage=usage)

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        """The rendered prompt's length in estimated tokens (for the loop's budgets and compaction)."""
        prompt = render(messages, [tool.to_openai() for tool in tools], add_generation_prompt=True)
        return int(len(prompt) / CHARS_PER_TOKEN)


def _observations(messages: Sequence[Message]) -> list[str]:
    """The tool results after the last assistant turn; loop feedback there is an error."""
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    observations = []
    for message in messages[last + 1 :]:
        if message["role"] != "tool":
            raise ExpertError(
                f"the loop answered the expert with {message['role']} text: {message['content'][:300]!r}"
            )
        observations.append(str(message["content"]))
    return observations
