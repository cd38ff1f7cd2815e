"""Any OpenAI-compatible server as an agent backend: SGLang, vLLM, Xiaomi's hosted API, `mimo-agent serve`.

Tools go out natively (`tools`, `tool_choice`), the answer streams back, and the server's `tool_calls`
are handed to the tool-calling layer as native calls beside the text, so a call the server left in the
content (or, with no native calls, in the reasoning) or with arguments that fail validation goes through
the same parser and repair as the embedded engine's output. The history is sent the way MiMo's servers
want it: `reasoning_content` kept on assistant turns, a string `content` (never null) beside tool calls,
arguments as JSON strings. 429, 5xx, timeouts and dropped connections are retried with backoff (a retried
stream shows only what goes past the text already shown), a refused connection only once; anything else
becomes one line naming the server and what to fix. The request timeout (600 s) can be set with
MIMO_AGENT_OPENAI_TIMEOUT (seconds). A set cancel token closes the stream at the next chunk (the server
then aborts the request) and returns what arrived, finish_reason "interrupted".
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.definition import ToolDef

KEY_VARIABLES = ("MIMO_AGENT_API_KEY", "OPENAI_API_KEY")
TIMEOUT_VARIABLE = "MIMO_AGENT_OPENAI_TIMEOUT"
DEFAULT_TIMEOUT = 600.0  # seconds without a byte from the server (a long prefill counts)
NO_KEY = "EMPTY"  # what local servers without auth expect; the client refuses an empty key


class StreamCut(Exception):
    """The stream ended without a finish reason, or its connection broke: the server went away mid-answer."""


RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    StreamCut,
)
MAX_RETRY_AFTER = 60.0
MAX_REFUSALS = 2  # connection attempts refused (or the host unknown) before giving up: the server is down
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
    cancelled: bool = False  # the cancel token stopped the reading before the server finished

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
        # The server knows its max model length, but asking costs a request (and not every server says):
        # the configured window stands in for it.
        self.context_limit: int = settings.context_window

    @classmethod
    def from_settings(
        cls, settings: ModelSettings, environ: Mapping[str, str] | None = None, timeout: float | None = None
    ) -> OpenAIBackend:
        """The key comes from MIMO_AGENT_API_KEY or OPENAI_API_KEY (local servers need none); the timeout,
        unless given, from MIMO_AGENT_OPENAI_TIMEOUT, else 600 s."""
        if not settings.base_url:
            raise BackendError("the openai backend needs --base-url URL (e.g. http://127.0.0.1:30000/v1)")
        environ = os.environ if environ is None else environ
        key = next((environ[name] for name in KEY_VARIABLES if environ.get(name)), NO_KEY)
        timeout = _timeout(environ) if timeout is None else timeout
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
        cancel: threading.Event | None = None,
    ) -> Completion:
        request = self._request(messages, tools)
        started = time.perf_counter()
        shown, refusals = _ShownOnce(on_delta), 0
        cancel = cancel or threading.Event()
        for attempt in range(1, self.max_attempts + 1):
            if cancel.is_set():  # before a first try or a retry: nothing more is asked of the server
                turn = _Turn(cancelled=True)
                break
            try:
                turn = self._stream(request, shown.attempt(), cancel)
                break
            except RETRYABLE as exc:
                refusals += _refused(exc)
                if attempt == self.max_attempts or refusals == MAX_REFUSALS:
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
            finish_reason=_finish_reason(turn),
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

    def _stream(self, request: dict[str, Any], emit: Callable[[str], None], cancel: threading.Event) -> _Turn:
        turn = _Turn()
        stream = self.client.chat.completions.create(**request)
        try:
            for chunk in stream:
                if chunk.usage is not None:
                    turn.usage = chunk.usage
                for choice in chunk.choices:
                    self._absorb(turn, choice, emit)
                # Checked between chunks: a silent server (long prefill) is left only at its next chunk.
                if cancel.is_set():
                    turn.cancelled = True
                    break
        # openai 1.x lets transport errors out of a stream unwrapped (3.x wraps them): retryable either way.
        except httpx.TransportError as exc:
            raise StreamCut(f"the connection broke after {len(turn.content)} characters") from exc
        finally:
            stream.close()
        if turn.in_reasoning:
            emit("</think>")
        if turn.finish_reason is None and not turn.cancelled:
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
        # A server that ignores stream_options, or a stream cancelled before its last chunk (usage comes
        # only there): estimated from the request and from the text received, not from what the server
        # generated, which may be a few tokens more than reached us.
        if turn.usage is None:
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
        if isinstance(exc.__cause__, httpx.TimeoutException) or isinstance(exc, openai.APITimeoutError):
            return f"{url} did not answer in time"
        if isinstance(exc, StreamCut) and exc.__cause__ is None:
            return f"{url} closed the stream before the answer finished"
        if isinstance(exc, StreamCut | openai.APIConnectionError):
            cause = exc.__cause__ or exc
            what = "cannot reach" if _refused(exc) else "lost the connection to"
            return f"{what} {url}: {type(cause).__name__}: {cause}".rstrip(": ")
        if isinstance(exc, openai.APIStatusError):
            return f"{url} answered {exc.status_code}: {server_message}"
        return f"{url}: {server_message}"


class _ShownOnce:
    """Hands streamed text to `on_delta` once across attempts: a retried stream stays silent until it gets
    past what earlier attempts showed, then shows only the rest. The agent has no event that takes shown
    text back, so where a sampled retry differs from what was shown, only the final message is true."""

    def __init__(self, on_delta: Callable[[str], None] | None) -> None:
        self._on_delta = on_delta
        self._shown = 0  # characters shown so far, over all attempts
        self._seen = 0  # characters the current attempt has streamed

    def attempt(self) -> Callable[[str], None]:
        """The `emit` for a new attempt, which starts again from the first character."""
        self._seen = 0
        return self._emit

    def _emit(self, text: str) -> None:
        start, self._seen = self._seen, self._seen + len(text)
        if self._seen > self._shown and self._on_delta is not None:
            self._on_delta(text[max(0, self._shown - start) :])
            self._shown = self._seen


def _finish_reason(turn: _Turn) -> str:
    if turn.cancelled:
        return "interrupted"
    return "length" if turn.finish_reason == "length" else "stop"


def _refused(exc: Exception) -> bool:
    """A connection that could not be made (refused, unknown host), not one that broke or timed out.
    By name: openai 1.x raises httpx's ConnectError, 3.x httpx2's."""
    return (
        isinstance(exc, openai.APIConnectionError)
        and not isinstance(exc, openai.APITimeoutError)
        and type(exc.__cause__).__name__ == "ConnectError"
    )


def _timeout(environ: Mapping[str, str]) -> float:
    raw = environ.get(TIMEOUT_VARIABLE)
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise BackendError(f"{TIMEOUT_VARIABLE} must be a number of seconds > 0; got {raw!r}")
    return seconds


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
