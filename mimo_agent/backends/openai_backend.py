"""Any OpenAI-compatible server as an agent backend: SGLang, vLLM, Xiaomi's hosted API, `mimo-agent serve`.

Tools go out natively (`tools`, `tool_choice`), the answer streams back, and the server's `tool_calls`
are handed to the tool-calling layer as native calls beside the text, so a call the server left in the
content (or, with no native calls, in the reasoning) or with arguments that fail validation goes through
the same parser and repair as the embedded engine's output. The history is sent the way MiMo's servers
want it: `reasoning_content` kept on assistant turns, a string `content` (never null) beside tool calls,
arguments as JSON strings. 429, 5xx, timeouts and dropped connections are retried with backoff (a retried
stream is shown again from its start); anything else becomes one line naming the server and what to fix.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.definition import ToolDef

KEY_VARIABLES = ("MIMO_AGENT_API_KEY", "OPENAI_API_KEY")
NO_KEY = "EMPTY"  # what local servers without auth expect; the client refuses an empty key


class StreamCut(Exception):
    """The stream ended without a finish reason: the server went away mid-answer."""


RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    StreamCut,
)
MAX_RETRY_AFTER = 60.0
CHARS_PER_TOKEN = 4.0  # estimate before the server has reported any usage


@dataclass
class _Turn:
    """One streamed answer being put together."""

    content: str = ""
    reasoning: str = ""
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Any = None
    in_reasoning: bool = False

    def native_calls(self) -> list[dict[str, Any]]:
        return [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for _, c in sorted(self.calls.items())
        ]


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        settings: ModelSettings,
        client: openai.OpenAI,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.model_name:
            raise BackendError("the openai backend needs --model-name NAME (the model id the server serves)")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1; got {max_attempts}")
        self.settings = settings
        self.client = client
        self.model = settings.model_name
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._chars_per_token = CHARS_PER_TOKEN

    @classmethod
    def from_settings(
        cls, settings: ModelSettings, environ: Mapping[str, str] | None = None, timeout: float = 600.0
    ) -> OpenAIBackend:
        """The key comes from MIMO_AGENT_API_KEY or OPENAI_API_KEY; local servers need none."""
        if not settings.base_url:
            raise BackendError("the openai backend needs --base-url URL (e.g. http://127.0.0.1:30000/v1)")
        environ = os.environ if environ is None else environ
        key = next((environ[name] for name in KEY_VARIABLES if environ.get(name)), NO_KEY)
        client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=key,
            max_retries=0,
            timeout=openai.Timeout(timeout, connect=10.0),
        )
        return cls(settings, client)

    # -- Backend protocol --------------------------------------------------------------------------------
    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        """An estimate from the request's size, calibrated by the prompt tokens the server last reported."""
        return math.ceil(len(self._payload_text(messages, tools)) / self._chars_per_token)

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        request = self._request(messages, tools)
        started = time.perf_counter()
        for attempt in range(1, self.max_attempts + 1):
            try:
                turn = self._stream(request, on_delta)
                break
            except RETRYABLE as exc:
                if attempt == self.max_attempts:
                    raise BackendError(f"{self._describe(exc)} (gave up after {attempt} attempts)") from exc
                self._sleep(self._delay(attempt, exc))
            except openai.OpenAIError as exc:
                raise BackendError(self._describe(exc)) from exc
        seconds = time.perf_counter() - started
        usage = self._usage(turn, messages, tools)
        native = turn.native_calls()
        # With no native calls, calls the server left in the reasoning must reach the parser too.
        text = (
            f"<think>{turn.reasoning}</think>{turn.content}"
            if turn.reasoning and not native
            else turn.content
        )
        stats = {
            "seconds": round(seconds, 3),
            "attempts": attempt,
            "server_finish_reason": turn.finish_reason,
            "tokens_per_second": round(usage.completion_tokens / seconds, 2) if seconds > 0 else 0.0,
        }
        return Completion(
            text=text,
            finish_reason="length" if turn.finish_reason == "length" else "stop",
            usage=usage,
            native_tool_calls=native,
            reasoning=turn.reasoning or None,
            stats=stats,
        )

    # -- request and stream ------------------------------------------------------------------------------
    def _request(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": wire_messages(messages),
            "temperature": self.settings.temperature,
            "top_p": self.settings.top_p,
            "max_completion_tokens": self.settings.max_new_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            # SGLang and vLLM switch thinking through the chat template; Xiaomi's hosted API through `thinking`.
            "extra_body": {
                "chat_template_kwargs": {"enable_thinking": self.settings.enable_thinking},
                "thinking": {"type": "enabled" if self.settings.enable_thinking else "disabled"},
            },
        }
        if tools:
            request["tools"] = [tool.to_openai() for tool in tools]
            request["tool_choice"] = "auto"
        return request

    def _stream(self, request: dict[str, Any], on_delta: Callable[[str], None] | None) -> _Turn:
        turn = _Turn()
        emit = on_delta or (lambda text: None)
        stream = self.client.chat.completions.create(**request)
        try:
            for chunk in stream:
                if chunk.usage is not None:
                    turn.usage = chunk.usage
                for choice in chunk.choices:
                    self._absorb(turn, choice, emit)
        finally:
            stream.close()
        if turn.in_reasoning:
            emit("</think>")
        if turn.finish_reason is None:
            raise StreamCut(f"the stream ended after {len(turn.content)} characters without a finish reason")
        return turn

    @staticmethod
    def _absorb(turn: _Turn, choice: Any, emit: Callable[[str], None]) -> None:
        delta = choice.delta
        extra = delta.model_extra or {}
        reasoning = extra.get("reasoning_content") or extra.get("reasoning")  # vLLM ≥ 0.10 says "reasoning"
        if reasoning:
            if not turn.in_reasoning:
                emit("<think>")
                turn.in_reasoning = True
            turn.reasoning += reasoning
            emit(reasoning)
        if (delta.content or delta.tool_calls) and turn.in_reasoning:
            emit("</think>")
            turn.in_reasoning = False
        if delta.content:
            turn.content += delta.content
            emit(delta.content)
        for piece in delta.tool_calls or []:
            call = turn.calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = piece.id or call["id"]
            if piece.function is not None:
                call["name"] += piece.function.name or ""
                call["arguments"] += piece.function.arguments or ""
        if choice.finish_reason:
            turn.finish_reason = choice.finish_reason

    def _usage(self, turn: _Turn, messages: Sequence[Message], tools: Sequence[ToolDef]) -> Usage:
        if turn.usage is None:  # a server that ignores stream_options: estimate
            completion = math.ceil(len(turn.content + turn.reasoning + json.dumps(turn.native_calls())) / 4)
            return Usage(self.count_tokens(messages, tools), completion)
        details = getattr(turn.usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        prompt = turn.usage.prompt_tokens or 0
        if prompt > 0:
            self._chars_per_token = len(self._payload_text(messages, tools)) / prompt
        return Usage(prompt, turn.usage.completion_tokens or 0, cached)

    @staticmethod
    def _payload_text(messages: Sequence[Message], tools: Sequence[ToolDef]) -> str:
        return json.dumps([wire_messages(messages), [t.to_openai() for t in tools]], ensure_ascii=False)

    # -- failures ----------------------------------------------------------------------------------------
    def _delay(self, attempt: int, exc: Exception) -> float:
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                return min(float(retry_after), MAX_RETRY_AFTER)
            except ValueError:
                pass
        return self.backoff_seconds * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)

    def _describe(self, exc: Exception) -> str:
        """One line naming the server and what went wrong, from the client's exception."""
        url = str(self.client.base_url).rstrip("/")
        server_message = _server_message(exc)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return (
                f"{url} refused the API key ({exc.status_code}: {server_message}); "
                f"set {' or '.join(KEY_VARIABLES)}"
            )
        if isinstance(exc, openai.NotFoundError):
            if "model" in server_message.lower():
                return (
                    f"{url} does not serve model {self.model!r} (404: {server_message}); check --model-name"
                )
            return f"{url}: no such endpoint (404: {server_message}); the base URL usually ends in /v1"
        if isinstance(exc, StreamCut):
            return f"{url} closed the stream before the answer finished"
        if isinstance(exc, openai.APITimeoutError):
            return f"{url} did not answer in time"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            # By name: openai 1.x raises httpx's ConnectError, 3.x httpx2's.
            what = "cannot reach" if type(cause).__name__ == "ConnectError" else "lost the connection to"
            return f"{what} {url}: {type(cause).__name__}: {cause}".rstrip(": ")
        if isinstance(exc, openai.APIStatusError):
            return f"{url} answered {exc.status_code}: {server_message}"
        return f"{url}: {server_message}"


def _server_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return " ".join(str(inner["message"]).split())
        if body.get("message"):
            return " ".join(str(body["message"]).split())
    return " ".join(str(getattr(exc, "message", exc)).split())


def wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The agent's history as OpenAI servers accept it: string content everywhere, JSON-string arguments,
    `reasoning_content` kept, and no `content: null` (the hosted MiMo API rejects it beside tool calls)."""
    out = []
    for message in messages:
        wire = {k: v for k, v in message.items() if v is not None}
        wire["content"] = message.get("content") or ""
        if message.get("role") == "tool":
            wire.pop("name", None)
        if message.get("tool_calls"):
            wire["tool_calls"] = [_wire_call(call) for call in message["tool_calls"]]
        out.append(wire)
    return out


def _wire_call(call: Mapping[str, Any]) -> dict[str, Any]:
    function = call.get("function", call)
    arguments = function.get("arguments", {})
    encoded = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {
        "id": call.get("id", ""),
        "type": "function",
        "function": {"name": function.get("name", ""), "arguments": encoded},
    }
