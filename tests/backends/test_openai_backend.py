"""The `openai` backend: wire format, repair of calls servers leave in text, retries and one-line errors
(against a scripted local server), and a short agent run against a real `mimo-agent serve` process."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from openai.types.chat import ChatCompletionChunk

from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import RunRequest, prepare_run
from mimo_agent.backends.base import BackendError, context_limit
from mimo_agent.backends.openai_backend import TIMEOUT_VARIABLE, OpenAIBackend
from mimo_agent.server.launch import ServerProcess
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.parser import parse
from tests.agent.replay_repo import make_buggy_repo
from tests.backends.fake_openai import FakeOpenAI, Reply, chunk, error, usage_chunk
from tests.server.live import API_KEY, build_checkpoint, start_server

WEATHER = ToolDef(
    "get_weather",
    "Current weather",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "metric": {"type": "boolean"}},
        "required": ["city"],
    },
)
XML_CALL = "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>"


def backend_for(
    url: str, max_attempts: int = 3, environ: dict[str, str] | None = None, **settings: object
) -> tuple[OpenAIBackend, list[float]]:
    sleeps: list[float] = []
    config = ModelSettings(backend="openai", base_url=url, model_name="m", max_new_tokens=64, **settings)
    backend = OpenAIBackend.from_settings(
        config, environ={"MIMO_AGENT_API_KEY": "k1", "OPENAI_API_KEY": "k2", **(environ or {})}
    )
    backend.max_attempts, backend.backoff_seconds, backend._sleep = max_attempts, 0.01, sleeps.append
    return backend, sleeps


def stream(*events: dict, finish: str = "stop") -> Reply:
    return Reply(
        events=[
            chunk({"role": "assistant", "content": ""}),
            *events,
            chunk({}, finish),
            usage_chunk(50, 7, 30),
        ]
    )


def test_history_goes_out_the_way_mimo_servers_want_it() -> None:
    history = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "look it up",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Rome"}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "sunny"},
        {"role": "assistant", "content": None},
    ]
    reply = stream(
        chunk({"reasoning_content": "think"}),
        chunk({"content": "Calling."}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Pa'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ris"}'}}]}),
        finish="tool_calls",
    )
    deltas: list[str] = []
    with FakeOpenAI([reply]) as fake:
        backend, _ = backend_for(fake.base_url, enable_thinking=True)
        completion = backend.complete(history, [WEATHER], on_delta=deltas.append)
    sent = fake.requests[0]
    assert fake.headers[0]["authorization"] == "Bearer k1"  # MIMO_AGENT_API_KEY wins over OPENAI_API_KEY
    assert (
        sent["model"] == "m" and sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    )
    assert sent["tools"] == [WEATHER.to_openai()] and sent["tool_choice"] == "auto"
    assert sent["chat_template_kwargs"] == {"enable_thinking": True} and sent["thinking"] == {
        "type": "enabled"
    }
    assert sent["max_completion_tokens"] == 64
    assert all(isinstance(m["content"], str) for m in sent["messages"]), "no content: null, ever"
    assistant = sent["messages"][2]
    assert assistant["reasoning_content"] == "look it up"
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"city": "Rome"}'
    assert "name" not in sent["messages"][3]
    assert completion.native_tool_calls == [
        {
            "id": "call_9",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    assert completion.text == "Calling." and completion.reasoning == "think"
    assert "".join(deltas) == "<think>think</think>Calling."
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (50, 7)
    assert completion.usage.reused_prefix_tokens == 30 and completion.stats["attempts"] == 1
    turn = parse(completion.text, [WEATHER], native_calls=completion.native_tool_calls)
    assert [(c.name, c.arguments, c.id) for c in turn.valid_calls] == [
        ("get_weather", {"city": "Paris"}, "call_9")
    ]


def test_calls_left_in_content_or_reasoning_or_broken_arguments_are_repaired() -> None:
    in_content = stream(chunk({"content": "Sure.\n" + XML_CALL}))
    in_reasoning = stream(chunk({"reasoning_content": "I will call\n" + XML_CALL}), chunk({"content": ""}))
    broken = stream(
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city": "Paris", "metric": "true"',
                        },
                    }
                ]
            }
        ),
        finish="tool_calls",
    )
    with FakeOpenAI([in_content, in_reasoning, broken]) as fake:
        backend, _ = backend_for(fake.base_url)
        turns = []
        for _ in range(3):
            completion = backend.complete([{"role": "user", "content": "hi"}], [WEATHER])
            turns.append(parse(completion.text, [WEATHER], native_calls=completion.native_tool_calls))
    for turn in turns:
        assert [c.name for c in turn.valid_calls] == ["get_weather"] and turn.valid_calls[0].arguments[
            "city"
        ] == "Paris"
    assert turns[0].text == "Sure.\n"
    assert "call_in_think" in turns[1].valid_calls[0].repairs
    assert (
        turns[2].valid_calls[0].arguments == {"city": "Paris", "metric": True}
        and turns[2].valid_calls[0].repairs
    )


def test_500_twice_then_success_is_retried_with_backoff() -> None:
    with FakeOpenAI(
        [error(500, "boom"), error(502, "bad gateway"), stream(chunk({"content": "ok"}))]
    ) as fake:
        backend, sleeps = backend_for(fake.base_url)
        completion = backend.complete([{"role": "user", "content": "hi"}], [])
    assert completion.text == "ok" and completion.stats["attempts"] == 3 and len(fake.requests) == 3
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] > 0


def test_429_waits_as_long_as_retry_after_says() -> None:
    with FakeOpenAI(
        [error(429, "slow down", **{"Retry-After": "0.25"}), stream(chunk({"content": "ok"}))]
    ) as fake:
        backend, sleeps = backend_for(fake.base_url)
        assert backend.complete([{"role": "user", "content": "hi"}], []).text == "ok"
    assert sleeps == [0.25]


def test_stream_cut_mid_answer_is_retried_then_reported() -> None:
    cut = Reply(events=[chunk({"content": "par"}), chunk({"content": "tial"})], cut_after=1)
    with FakeOpenAI([cut, stream(chunk({"content": "whole"}))]) as fake:
        backend, _ = backend_for(fake.base_url)
        assert backend.complete([{"role": "user", "content": "hi"}], []).text == "whole"
    with FakeOpenAI([cut] * 2) as fake:
        backend, _ = backend_for(fake.base_url, max_attempts=2)
        with pytest.raises(BackendError, match=r"lost the connection to .* \(gave up after 2 attempts\)"):
            backend.complete([{"role": "user", "content": "hi"}], [])


def test_a_retried_stream_shows_only_what_goes_past_the_text_already_shown() -> None:
    """Regression: a retried stream was shown again from its start, so the live view had its text twice."""
    cut = Reply(
        events=[chunk({"reasoning_content": "Let me"}), chunk({"reasoning_content": " see"})], cut_after=1
    )
    whole = stream(
        chunk({"reasoning_content": "Let me"}),
        chunk({"reasoning_content": " think."}),
        chunk({"content": "42"}),
    )
    deltas: list[str] = []
    with FakeOpenAI([cut, whole]) as fake:
        backend, _ = backend_for(fake.base_url)
        completion = backend.complete([{"role": "user", "content": "hi"}], [], on_delta=deltas.append)
    assert completion.stats["attempts"] == 2 and completion.reasoning == "Let me think."
    assert "".join(deltas) == "<think>Let me think.</think>42"
    assert deltas[:2] == ["<think>", "Let me"] and deltas[2] == " think.", "the retry starts past 'Let me'"


def test_a_stalled_stream_times_out_and_is_retried() -> None:
    """The server sends part of the answer, then nothing: the read timeout (set through the environment)
    ends the attempt and the retry finishes the answer."""
    stalled = Reply(
        events=[chunk({"role": "assistant", "content": ""}), chunk({"content": "The answer"})], stall_after=2
    )
    deltas: list[str] = []
    with FakeOpenAI([stalled, stream(chunk({"content": "The answer is 42."}))]) as fake:
        backend, sleeps = backend_for(fake.base_url, environ={TIMEOUT_VARIABLE: "0.5"})
        started = time.monotonic()
        completion = backend.complete([{"role": "user", "content": "hi"}], [], on_delta=deltas.append)
        seconds = time.monotonic() - started
    assert completion.text == "The answer is 42." and completion.stats["attempts"] == 2 and len(sleeps) == 1
    assert "".join(deltas) == "The answer is 42." and 0.5 <= seconds < 5
    with FakeOpenAI([stalled]) as fake:
        backend, _ = backend_for(fake.base_url, max_attempts=1, environ={TIMEOUT_VARIABLE: "0.3"})
        with pytest.raises(BackendError, match=r"did not answer in time \(gave up after 1 attempts\)"):
            backend.complete([{"role": "user", "content": "hi"}], [])


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_a_bad_timeout_variable_is_named(value: str) -> None:
    with pytest.raises(
        BackendError, match=rf"{TIMEOUT_VARIABLE} must be a number of seconds > 0; got '{value}'"
    ):
        backend_for("http://127.0.0.1:1/v1", environ={TIMEOUT_VARIABLE: value})


class OldClient:
    """Just enough of an openai 1.x client whose streams let httpx errors out raw when the connection
    breaks mid-answer (as 1.x does; 3.x wraps them in APIConnectionError)."""

    base_url = "http://old.example/v1"

    def __init__(self, *streams: tuple[list[dict[str, Any]], Exception | None]) -> None:
        self.chat = SimpleNamespace(completions=self)
        self._streams = list(streams)

    def create(self, **request: Any) -> Iterator[ChatCompletionChunk]:
        events, error = self._streams.pop(0)

        def chunks() -> Iterator[ChatCompletionChunk]:
            yield from (ChatCompletionChunk.model_validate(e) for e in events)
            if error is not None:
                raise error

        return chunks()


def test_raw_httpx_errors_mid_stream_are_retried_and_reported() -> None:
    broken = ([chunk({"content": "par"})], httpx.RemoteProtocolError("peer closed connection"))
    whole = ([chunk({"content": "whole"}), chunk({}, "stop")], None)
    config = ModelSettings(backend="openai", base_url=OldClient.base_url, model_name="m")
    backend = OpenAIBackend(config, OldClient(broken, whole), sleep=lambda _: None)  # type: ignore[arg-type]
    completion = backend.complete([{"role": "user", "content": "hi"}], [])
    assert completion.text == "whole" and completion.stats["attempts"] == 2
    backend = OpenAIBackend(config, OldClient(broken, broken), max_attempts=2, sleep=lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(
        BackendError,
        match=r"^lost the connection to http://old.example/v1: RemoteProtocolError: peer closed connection "
        r"\(gave up after 2 attempts\)$",
    ):
        backend.complete([{"role": "user", "content": "hi"}], [])


@pytest.mark.parametrize(
    ("replies", "expected", "requests"),
    [
        (
            [error(500, "engine\nexploded")] * 3,
            r"answered 500: engine exploded \(gave up after 3 attempts\)",
            3,
        ),
        (
            [error(401, "Incorrect API key provided")],
            r"refused the API key \(401: Incorrect API key provided\); set MIMO_AGENT_API_KEY",
            1,
        ),
        (
            [error(404, "The model `m` does not exist", "model_not_found")],
            r"does not serve model 'm' .*check --model-name",
            1,
        ),
        ([error(404, "Not Found")], r"no such endpoint .*ends in /v1", 1),
        ([error(400, "messages: bad")], r"answered 400: messages: bad$", 1),
    ],
    ids=["500", "401", "unknown-model", "wrong-path", "400"],
)
def test_final_errors_are_one_clear_line(replies: list[Reply], expected: str, requests: int) -> None:
    with FakeOpenAI(replies) as fake:
        backend, _ = backend_for(fake.base_url)
        with pytest.raises(BackendError, match=expected) as caught:
            backend.complete([{"role": "user", "content": "hi"}], [])
    assert "\n" not in str(caught.value) and len(fake.requests) == requests


def test_unreachable_server_fails_fast_and_missing_settings() -> None:
    """A refused connection is tried twice, not `max_attempts` times (that took ~15 s before the error)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        backend, sleeps = backend_for(f"http://127.0.0.1:{port}/v1", max_attempts=5)
        with pytest.raises(
            BackendError,
            match=rf"cannot reach http://127.0.0.1:{port}/v1: ConnectError.* \(gave up after 2 attempts\)$",
        ):
            backend.complete([{"role": "user", "content": "hi"}], [])
    assert len(sleeps) == 1
    with pytest.raises(BackendError, match="--base-url"):
        OpenAIBackend.from_settings(ModelSettings(backend="openai", model_name="m"), environ={})
    with pytest.raises(BackendError, match="--model-name"):
        OpenAIBackend.from_settings(ModelSettings(backend="openai", base_url="http://x/v1"), environ={})


def test_token_counts_follow_the_servers_usage() -> None:
    messages = [{"role": "user", "content": "word " * 200}]
    with FakeOpenAI([stream(chunk({"content": "ok"}))]) as fake:
        backend, _ = backend_for(fake.base_url)
        before = backend.count_tokens(messages, [])
        backend.complete(messages, [])
    assert before > 200 and backend.count_tokens(messages, []) == 50  # the server said 50 prompt tokens


def test_cancel_mid_stream_returns_the_text_so_far_as_interrupted() -> None:
    words = [chunk({"content": word}) for word in ("Hello", " wide", " world", " of", " slow", " tokens")]
    slow = Reply(events=[chunk({"role": "assistant", "content": ""}), *words, chunk({}, "stop")], delay=0.2)
    cancel, shown = threading.Event(), []

    def cancel_on_first_text(text: str) -> None:
        shown.append(text)
        cancel.set()

    with FakeOpenAI([slow]) as fake:
        backend, _ = backend_for(fake.base_url)
        started = time.perf_counter()
        completion = backend.complete(
            [{"role": "user", "content": "hi " * 40}], [], on_delta=cancel_on_first_text, cancel=cancel
        )
        elapsed = time.perf_counter() - started
    assert completion.finish_reason == "interrupted" and completion.text == "Hello" and shown == ["Hello"]
    assert elapsed < 1.0  # the other five chunks (another second) were never waited for
    # No usage chunk came: the prompt is estimated from the request, the completion from "Hello".
    assert completion.usage.prompt_tokens > 30 and 1 <= completion.usage.completion_tokens <= 2


def test_a_cancel_set_before_the_call_asks_nothing_and_context_limit_is_the_setting() -> None:
    with FakeOpenAI([stream(chunk({"content": "never"}))]) as fake:
        backend, _ = backend_for(fake.base_url, context_window=32_768)
        cancelled = threading.Event()
        cancelled.set()
        completion = backend.complete([{"role": "user", "content": "hi"}], [], cancel=cancelled)
        assert completion.finish_reason == "interrupted" and completion.text == "" and fake.requests == []
    assert context_limit(backend) == 32_768


# -- against a real `mimo-agent serve` -------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkpoint(tmp_path_factory.mktemp("openai-backend"))


@pytest.fixture(scope="module")
def server(checkpoint: Path) -> Iterator[ServerProcess]:
    with start_server(checkpoint, "--api-key", API_KEY) as process:
        yield process


def served_backend(server: ServerProcess, **settings: object) -> OpenAIBackend:
    config = ModelSettings(backend="openai", base_url=server.base_url, model_name=server.name, **settings)
    return OpenAIBackend.from_settings(config, environ={"OPENAI_API_KEY": API_KEY})


@pytest.mark.slow
def test_agent_runs_fix_issue_against_serve(server: ServerProcess, tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    backend = served_backend(server, max_new_tokens=24, temperature=1.0)
    request = RunRequest(
        workspace=repo,
        task="add(2, 3) returns -1; fix it",
        flags={"permissions": {"mode": "read-only"}, "budgets": {"max_steps": 3}},
        trajectory_path=tmp_path / "trajectory.json",
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    prepared = prepare_run(request, backend=backend)
    try:
        run = prepared.agent.run(request.task, base_commit=prepared.base_commit)
    finally:
        prepared.close()
    assert run.outcome.kind is not OutcomeKind.ERROR, run.outcome.message
    assert run.steps >= 1 and run.prompt_tokens > 1000 and run.completion_tokens >= run.steps
    trajectory = json.loads((tmp_path / "trajectory.json").read_text())
    usage = [e["payload"] for e in trajectory["events"] if e["type"] == "assistant_message"]
    assert usage and all(u["prompt_tokens"] > 1000 and u["completion_tokens"] > 0 for u in usage)


@pytest.mark.slow
def test_server_killed_mid_stream_gives_a_clear_error(checkpoint: Path) -> None:
    with start_server(checkpoint) as doomed:
        backend = served_backend(doomed, max_new_tokens=3000, temperature=0.0)
        backend.max_attempts, backend.backoff_seconds = 3, 0.05
        deltas: list[str] = []

        def kill_on_first_delta(text: str) -> None:
            deltas.append(text)
            if len(deltas) == 1:
                doomed.kill()

        with pytest.raises(BackendError) as caught:
            backend.complete(
                [{"role": "user", "content": "Tell me a long story."}], [], on_delta=kill_on_first_delta
            )
    message = str(caught.value)
    assert "\n" not in message and "(gave up after 3 attempts)" in message
    assert message.startswith(
        (f"lost the connection to {doomed.base_url}", f"cannot reach {doomed.base_url}")
    )
