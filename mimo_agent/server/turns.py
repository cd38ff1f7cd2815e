"""Raw model text → the OpenAI assistant message, delta by delta.

The same assembler feeds both response shapes, so a streamed answer always adds up to the non-streamed
one. With tools, the tool-calling layer's `StreamParser` splits reasoning, prose and calls; a call is sent
once its `</tool_call>` closes (its arguments are typed JSON only then, as SGLang's MiMo parser does), as a
header delta (id, name) followed by an arguments delta. Without tools only `<think>` is split off, so a
JSON answer that happens to contain `"name":` streams as the content it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from mimo_agent.toolcalls.events import CallCompleted, CallFailed, Event, ReasoningDelta, TextDelta
from mimo_agent.toolcalls.parser import StreamParser

Delta = dict[str, Any]  # one `choices[0].delta` of a chat.completion.chunk
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Splits `<think>…</think>` from prose in streamed text, holding back a tag cut by a chunk boundary."""

    def __init__(self) -> None:
        self._held = ""
        self._thinking = False

    def feed(self, text: str) -> list[Event]:
        buf, out = self._held + text, []
        while True:
            tag = THINK_CLOSE if self._thinking else THINK_OPEN
            at = buf.find(tag)
            if at < 0:
                break
            out.append(self._piece(buf[:at]))
            buf, self._thinking = buf[at + len(tag) :], not self._thinking
        keep = next((n for n in range(min(len(tag) - 1, len(buf)), 0, -1) if buf.endswith(tag[:n])), 0)
        self._held = buf[len(buf) - keep :]
        out.append(self._piece(buf[: len(buf) - keep]))
        return out

    def finish(self) -> list[Event]:
        held, self._held = self._held, ""
        return [self._piece(held)]

    def _piece(self, text: str) -> Event:
        return ReasoningDelta(text) if self._thinking else TextDelta(text)


class TurnAssembler:
    """Feed engine text; get OpenAI deltas; read the whole message and finish reason at the end.

    With `calls_only` (tool_choice "required") the answer is its calls, as OpenAI and vLLM give it: the
    grammar lets prose follow them when parallel calls are allowed, so prose after a call sets `ended`
    (the service then stops generating) and is dropped, and blanks between calls are not content.
    """

    def __init__(
        self, tools: Sequence[dict[str, Any]] | None, parse_calls: bool, calls_only: bool = False
    ) -> None:
        self._splitter: StreamParser | ThinkSplitter = (
            StreamParser(list(tools or []), "xml") if parse_calls else ThinkSplitter()
        )
        self._calls_only = calls_only
        self.ended = False
        self.content = ""
        self.reasoning = ""
        self.tool_calls: list[dict[str, Any]] = []

    def feed(self, text: str) -> list[Delta]:
        return self._deltas(self._splitter.feed(text)) if text else []

    def finish(self, truncated: bool) -> list[Delta]:
        if isinstance(self._splitter, StreamParser):
            return self._deltas(self._splitter.finish(truncated))
        return self._deltas(self._splitter.finish())

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message

    def finish_reason(self, engine_reason: str) -> str:
        """ "tool_calls" when the model stopped after calling (or `ended`); else "length" if the budget cut it."""
        return "tool_calls" if self.tool_calls and (engine_reason == "stop" or self.ended) else engine_reason

    def _deltas(self, events: list[Event]) -> list[Delta]:
        out: list[Delta] = []
        for event in events:
            if self.ended:
                break
            if isinstance(event, TextDelta) and self._calls_only:
                self.ended = bool(self.tool_calls and event.text.strip())
            elif isinstance(event, TextDelta) and event.text:
                self.content += event.text
                out.append({"content": event.text})
            elif isinstance(event, ReasoningDelta) and event.text:
                self.reasoning += event.text
                out.append({"reasoning_content": event.text})
            elif isinstance(event, CallCompleted):
                out += self._call(event.call.name, event.call.arguments)
            elif isinstance(event, CallFailed) and event.call.raw:
                # Only a cut-off call gets here (the grammar admits no other); keep it visible as text.
                self.content += event.call.raw
                out.append({"content": event.call.raw})
        return out

    def _call(self, name: str, arguments: dict[str, Any]) -> list[Delta]:
        index, call_id = len(self.tool_calls), f"call_{uuid.uuid4().hex[:24]}"
        encoded = json.dumps(arguments, ensure_ascii=False)
        self.tool_calls.append(
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": encoded}}
        )
        header = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        return [
            {"tool_calls": [header]},
            {"tool_calls": [{"index": index, "function": {"arguments": encoded}}]},
        ]
