"""The official `openai` client against `mimo-agent serve` running as a real process on a tiny model.

One server for the module (started with an API key and a small body limit). Responses must parse into
the client's own types; streamed deltas must add up to valid calls and to the non-streamed answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from mimo_agent.server.launch import ServerProcess
from tests.server.live import API_KEY, CLOCK, WEATHER, build_checkpoint, start_server

pytestmark = pytest.mark.slow
BODY_LIMIT_MB = 0.25
USER = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    checkpoint = build_checkpoint(tmp_path_factory.mktemp("serve"))
    with start_server(checkpoint, "--api-key", API_KEY, "--max-body-mb", str(BODY_LIMIT_MB)) as process:
        yield process


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=60)


def post(server: ServerProcess, content: bytes, key: str = API_KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return httpx.post(f"{server.base_url}/chat/completions", content=content, headers=headers, timeout=60)


def reassemble(chunks: list[ChatCompletionChunk]) -> dict[str, Any]:
    """What a client builds from the stream: content, reasoning, calls by index, finish reason, usage."""
    out: dict[str, Any] = {"content": "", "reasoning": "", "calls": {}, "finish": None, "usage": None}
    for chunk in chunks:
        assert chunk.object == "chat.completion.chunk" and chunk.id == chunks[0].id
        if chunk.usage is not None:
            assert chunk.choices == []
            out["usage"] = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            out["content"] += delta.content or ""
            out["reasoning"] += (delta.model_extra or {}).get("reasoning_content") or ""
            for piece in delta.tool_calls or []:
                call = out["calls"].setdefault(piece.index, {"id": None, "name": "", "arguments": ""})
                if piece.id:
                    assert call["id"] is None, "an id is sent once per call"
                    call["id"] = piece.id
                if piece.function is not None:
                    call["name"] += piece.function.name or ""
                    call["arguments"] += piece.function.arguments or ""
            if choice.finish_reason:
                out["finish"] = choice.finish_reason
    return out


def check_call(name: str, arguments: str, tools: list[dict[str, Any]]) -> dict[str, Any]:
    schema = next(t["function"]["parameters"] for t in tools if t["function"]["name"] == name)
    parsed = json.loads(arguments)
    jsonschema.validate(parsed, schema)
    return parsed


def test_health_and_models(server: ServerProcess, client: openai.OpenAI) -> None:
    health = httpx.get(f"http://127.0.0.1:{server.port}/health").json()
    assert health["status"] == "ok" and health["model"] == "tiny"
    assert [m.id for m in client.models.list().data] == ["tiny"]
    assert client.models.retrieve("tiny").id == "tiny"


def test_plain_completion_parses_into_client_types(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="tiny", messages=USER, max_tokens=8, temperature=0)
    assert isinstance(response, ChatCompletion) and response.object == "chat.completion"
    choice = response.choices[0]
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length") and not choice.message.tool_calls
    assert 1 <= response.usage.completion_tokens <= 8
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_stream_adds_up_to_the_plain_answer_and_ends_with_usage(client: openai.OpenAI) -> None:
    request = dict(
        model="tiny", messages=USER, max_completion_tokens=12, temperature=0.9, seed=7, stop=["zzz"]
    )
    plain = client.chat.completions.create(**request)
    chunks = list(
        client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True})
    )
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = reassemble(chunks)
    assert streamed["content"] == plain.choices[0].message.content
    assert streamed["finish"] == plain.choices[0].finish_reason
    assert streamed["usage"].completion_tokens == plain.usage.completion_tokens
    assert chunks[-1].usage is not None, "the usage chunk comes last"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "tool_choice",
    ["required", {"type": "function", "function": {"name": "get_time"}}],
    ids=["required", "named"],
)
def test_forced_tool_calls_are_valid(client: openai.OpenAI, stream: bool, tool_choice: Any) -> None:
    tools = [WEATHER, CLOCK]
    request = dict(
        model="tiny",
        messages=USER,
        tools=tools,
        tool_choice=tool_choice,
        max_tokens=160,  # room for the random model to close the call
        temperature=0.8,
        seed=3,
        parallel_tool_calls=False,
    )
    if stream:
        got = reassemble(list(client.chat.completions.create(**request, stream=True)))
        calls = [(c["id"], c["name"], c["arguments"]) for _, c in sorted(got["calls"].items())]
        finish = got["finish"]
    else:
        message = client.chat.completions.create(**request).choices[0]
        calls = [(c.id, c.function.name, c.function.arguments) for c in message.message.tool_calls or []]
        finish = message.finish_reason
    assert len(calls) == 1 and finish == "tool_calls"
    call_id, name, arguments = calls[0]
    assert call_id.startswith("call_")
    if isinstance(tool_choice, dict):
        assert name == "get_time"
    check_call(name, arguments, tools)


def test_tool_choice_none_and_auto(client: openai.OpenAI) -> None:
    none = client.chat.completions.create(
        model="tiny",
        messages=USER,
        tools=[WEATHER],
        tool_choice="none",
        max_tokens=24,
        temperature=1.0,
        seed=1,
    )
    assert not none.choices[0].message.tool_calls and "<tool_call>" not in (
        none.choices[0].message.content or ""
    )
    for seed in range(3):
        auto = client.chat.completions.create(
            model="tiny", messages=USER, tools=[WEATHER], max_tokens=48, temperature=1.0, seed=seed
        )
        for call in auto.choices[0].message.tool_calls or []:
            check_call(call.function.name, call.function.arguments, [WEATHER])
        assert (
            "<tool_call>" not in (auto.choices[0].message.content or "")
            or auto.choices[0].finish_reason == "length"
        )


@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_answers_validate(client: openai.OpenAI, stream: bool) -> None:
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "size": {"enum": ["S", "M", "L"]}},
        "required": ["ok", "size"],
        "additionalProperties": False,
    }
    request = dict(
        model="tiny",
        messages=USER,
        max_tokens=40,
        seed=5,
        temperature=1.0,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
    )
    if stream:
        content = reassemble(list(client.chat.completions.create(**request, stream=True)))["content"]
    else:
        content = client.chat.completions.create(**request).choices[0].message.content
    jsonschema.validate(json.loads(content), schema)


def test_json_object_and_thinking_split(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model="tiny", messages=USER, max_tokens=40, temperature=0, response_format={"type": "json_object"}
    )
    assert answer.choices[0].finish_reason == "length" or isinstance(
        json.loads(answer.choices[0].message.content), dict
    )
    chunks = list(
        client.chat.completions.create(
            model="tiny",
            messages=USER,
            tools=[WEATHER],
            max_tokens=6,
            temperature=0,
            stream=True,
            extra_body={"chat_template_kwargs": {"enable_thinking": True}},
        )
    )
    got = reassemble(chunks)
    assert got["reasoning"], "the grammar opens <think>, so the first tokens are reasoning"
    assert "<think>" not in got["content"] + got["reasoning"]


def test_history_with_tool_calls_reasoning_and_tool_results(client: openai.OpenAI) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "I should look it up.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "metric": true}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 21}'},
    ]
    response = client.chat.completions.create(model="tiny", messages=messages, tools=[WEATHER], max_tokens=4)
    assert response.usage.prompt_tokens > 100


def test_bad_requests_get_openai_errors_and_the_server_lives_on(
    server: ServerProcess, client: openai.OpenAI
) -> None:
    broken = post(server, b'{"model": "tiny", "messages": [')
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    assert post(server, b"[1, 2]").status_code == 400
    assert post(server, b"\xff\xfe").status_code == 400
    wrong = post(
        server, json.dumps({"model": "tiny", "messages": [{"role": "robot", "content": "x"}]}).encode()
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "messages.0.role"
    huge = json.dumps(
        {"model": "tiny", "messages": [{"role": "user", "content": "x" * int(BODY_LIMIT_MB * 2**21)}]}
    )
    too_big = post(server, huge.encode())
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
    bad_call = {
        "role": "assistant",
        "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{oops"}}
        ],
    }
    history = post(server, json.dumps({"model": "tiny", "messages": [*USER, bad_call]}).encode())
    assert (
        history.status_code == 400
        and "tool_calls[0].function.arguments" in history.json()["error"]["message"]
    )
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.chat.completions.create(model="gpt-4o", messages=USER)
    cases = [
        dict(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "missing"}}),
        dict(tools=[WEATHER], response_format={"type": "json_object"}),
        dict(tool_choice="required"),
        dict(n=2),
        dict(temperature=5),
        dict(stream_options={"include_usage": True}),
        dict(extra_body={"chat_template_kwargs": {"unknown_flag": 1}}),
    ]
    for case in cases:
        with pytest.raises(openai.BadRequestError) as error:
            client.chat.completions.create(model="tiny", messages=USER, max_tokens=2, **case)
        assert error.value.body and error.value.body.get("message"), case
    assert client.chat.completions.create(model="tiny", messages=USER, max_tokens=2).choices


def test_disconnect_cancels_and_requests_queue(server: ServerProcess, client: openai.OpenAI) -> None:
    # A raw-text string value almost never closes under a random model, and the grammar keeps stop
    # tokens out of an open call: without cancellation this request runs its full 4000 tokens.
    note = {
        "type": "function",
        "function": {
            "name": "note",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        },
    }
    stream = client.chat.completions.create(
        model="tiny",
        messages=USER,
        tools=[note],
        tool_choice={"type": "function", "function": {"name": "note"}},
        max_tokens=4000,
        temperature=1.0,
        seed=2,
        stream=True,
    )
    next(iter(stream))
    stream.close()  # the client goes away right after the first chunk
    results: list[int] = []

    def ask() -> None:
        results.append(
            client.chat.completions.create(model="tiny", messages=USER, max_tokens=6).usage.completion_tokens
        )

    threads = [threading.Thread(target=ask) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(results) == 3 and all(1 <= n <= 6 for n in results)
    assert time.monotonic() - started < 20, "queued requests waited for the abandoned generation"
    assert httpx.get(f"http://127.0.0.1:{server.port}/health").json()["pending"] == 0
