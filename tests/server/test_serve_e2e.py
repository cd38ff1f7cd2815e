"""The official `openai` client against `mimo-agent serve` running as a real process on a tiny model.

One server for the module (started with an API key and a small body limit). The client does not
validate what it parses, so the same requests are also sent raw and every body and SSE event is checked
strictly against the client's own types; streamed deltas must add up to valid calls and to the
non-streamed answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx
import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel

from mimo_agent.server.launch import ServerProcess
from tests.server.live import API_KEY, CLOCK, WEATHER, build_checkpoint, start_server

pytestmark = pytest.mark.slow
BODY_LIMIT_MB = 0.25
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
M = TypeVar("M", bound=BaseModel)


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


def strictly(model: type[M], raw: str | bytes) -> M:
    """`raw` as the client's own type, validated strictly (no coercion: "1" is no int, "done" no finish
    reason) and with no field the type does not declare but `reasoning_content`: a malformed field fails."""
    parsed = model.model_validate_json(raw, strict=True)
    assert not undeclared(parsed), f"fields {model.__name__} does not declare: {undeclared(parsed)}"
    return parsed


def undeclared(value: Any, path: str = "") -> list[str]:
    if isinstance(value, BaseModel):
        extra = [f"{path}.{key}" for key in value.model_extra or {} if key != "reasoning_content"]
        fields = type(value).model_fields
        return extra + [u for name in fields for u in undeclared(getattr(value, name), f"{path}.{name}")]
    if isinstance(value, list):
        return [u for i, item in enumerate(value) for u in undeclared(item, f"{path}[{i}]")]
    return []


def raw_completion(server: ServerProcess, request: dict[str, Any]) -> ChatCompletion:
    response = post(server, json.dumps(request).encode())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return strictly(ChatCompletion, response.content)


def raw_chunks(server: ServerProcess, request: dict[str, Any]) -> list[ChatCompletionChunk]:
    """The SSE stream read byte for byte: `data: …` events, each one line ending in a blank line, then
    `data: [DONE]`; every event a strictly valid chunk."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    url = f"{server.base_url}/chat/completions"
    body = {**request, "stream": True}
    with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""], f"stream ends {events[-2:]!r}"
    assert all(e.startswith("data: {") and "\n" not in e for e in events[:-2]), "one data line per event"
    return [strictly(ChatCompletionChunk, e.removeprefix("data: ")) for e in events[:-2]]


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


def test_plain_completion_parses_into_client_types(server: ServerProcess, client: openai.OpenAI) -> None:
    request = dict(model="tiny", messages=USER, max_tokens=8, temperature=0)
    response = client.chat.completions.create(**request)
    raw = raw_completion(server, request)
    assert raw.choices[0].message == response.choices[0].message and raw.usage == response.usage
    assert isinstance(response, ChatCompletion) and response.object == "chat.completion"
    choice = response.choices[0]
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length") and not choice.message.tool_calls
    assert 1 <= response.usage.completion_tokens <= 8
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_stream_adds_up_to_the_plain_answer_and_ends_with_usage(
    server: ServerProcess, client: openai.OpenAI
) -> None:
    request = dict(
        model="tiny", messages=USER, max_completion_tokens=12, temperature=0.9, seed=7, stop=["zzz"]
    )
    plain = client.chat.completions.create(**request)
    chunks = list(
        client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True})
    )
    raw = raw_chunks(server, {**request, "stream_options": {"include_usage": True}})
    assert [c.choices for c in raw] == [c.choices for c in chunks] and raw[-1].usage == chunks[-1].usage
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = reassemble(chunks)
    assert streamed["content"] == plain.choices[0].message.content
    assert streamed["finish"] == plain.choices[0].finish_reason
    assert streamed["usage"].completion_tokens == plain.usage.completion_tokens
    assert chunks[-1].usage is not None, "the usage chunk comes last"


def answer(server: ServerProcess, client: openai.OpenAI, request: dict[str, Any], stream: bool) -> dict:
    """Content, calls (id, name, arguments) and finish reason through the client, checked against the
    same request sent raw (ids aside, a seeded request answers the same twice)."""
    if stream:
        got = reassemble(list(client.chat.completions.create(**request, stream=True)))
        raw = reassemble(raw_chunks(server, request))
        calls = [(c["id"], c["name"], c["arguments"]) for _, c in sorted(got["calls"].items())]
        raw_calls = [(c["name"], c["arguments"]) for _, c in sorted(raw["calls"].items())]
        out = {"content": got["content"], "calls": calls, "finish": got["finish"]}
        assert (raw["content"], raw["finish"]) == (out["content"], out["finish"])
    else:
        choice = client.chat.completions.create(**request).choices[0]
        message = choice.message
        calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
        raw_choice = raw_completion(server, request).choices[0]
        raw_calls = [(c.function.name, c.function.arguments) for c in raw_choice.message.tool_calls or []]
        out = {"content": message.content or "", "calls": calls, "finish": choice.finish_reason}
        assert (raw_choice.message.content or "", raw_choice.finish_reason) == (out["content"], out["finish"])
    assert raw_calls == [(name, arguments) for _, name, arguments in calls]
    return out


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("tool_choice", "parallel"),
    [
        ("required", False),
        ("required", True),
        ({"type": "function", "function": {"name": "get_time"}}, False),
    ],
    ids=["required", "required-parallel", "named"],
)
def test_forced_tool_calls_are_valid(
    server: ServerProcess, client: openai.OpenAI, stream: bool, tool_choice: Any, parallel: bool
) -> None:
    """With parallel calls allowed the grammar admits prose after the calls; the answer must still be
    only its calls and finish with "tool_calls" (it used to run on as content to the token budget)."""
    tools = [WEATHER, CLOCK]
    request = dict(
        model="tiny",
        messages=USER,
        tools=tools,
        tool_choice=tool_choice,
        max_tokens=160,  # room for the random model to close the call
        temperature=0.8,
        seed=3,
        parallel_tool_calls=parallel,
    )
    got = answer(server, client, request, stream)
    calls = got["calls"]
    assert (len(calls) >= 1 if parallel else len(calls) == 1) and got["finish"] == "tool_calls"
    assert got["content"] == "", "a forced answer is its calls"
    for call_id, name, arguments in calls:
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
def test_json_schema_answers_validate(server: ServerProcess, client: openai.OpenAI, stream: bool) -> None:
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
    jsonschema.validate(json.loads(answer(server, client, request, stream)["content"]), schema)


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
        dict(seed=2**63),
    ]
    for case in cases:
        with pytest.raises(openai.BadRequestError) as error:
            client.chat.completions.create(model="tiny", messages=USER, max_tokens=2, **case)
        assert error.value.body and error.value.body.get("message"), case
    assert client.chat.completions.create(
        model="tiny",
        messages=USER,
        max_tokens=2,
        extra_body={"chat_template_kwargs": {"enable_thinking": False, "separate_reasoning": True}},
    ).choices, "template kwargs this model does not know are ignored, as SGLang does"


def test_hostile_values_get_a_4xx_or_a_sane_answer(server: ServerProcess) -> None:
    """Regressions: each of these was a 500 (RecursionError, seed overflow, NaN probabilities)."""
    deep = post(server, b"[" * 100_000)
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "invalid_json"
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(300):  # valid JSON, but past what rendering and grammar compiling can recurse into
        schema = {"type": "object", "properties": {"a": schema}}
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    nested = post(server, json.dumps({"model": "tiny", "messages": USER, "tools": [tool]}).encode())
    assert nested.status_code == 400 and "nested too deeply" in nested.json()["error"]["message"]
    dangling = {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}
    tool = {"type": "function", "function": {"name": "f", "parameters": dangling}}
    bad_ref = post(server, json.dumps({"model": "tiny", "messages": USER, "tools": [tool]}).encode())
    assert bad_ref.status_code == 400 and "points nowhere" in bad_ref.json()["error"]["message"]
    big_seed = post(server, json.dumps({"model": "tiny", "messages": USER, "seed": 2**63}).encode())
    assert big_seed.status_code == 400 and big_seed.json()["error"]["param"] == "seed"

    def content(**fields: Any) -> str:
        request = {"model": "tiny", "messages": USER, "max_tokens": 12, **fields}
        return raw_completion(server, request).choices[0].message.content or ""

    assert content(seed=-1, temperature=1.0) == content(seed=-1, temperature=1.0), "negative seeds repeat"
    assert content(temperature=1e-300) == content(temperature=0), "a vanishing temperature is greedy"
    assert httpx.get(f"http://127.0.0.1:{server.port}/health").json()["status"] == "ok"


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
