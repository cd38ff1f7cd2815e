"""Raw model text → OpenAI deltas and message, independent of how the engine chunked the text; request checks."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.server.errors import from_validation
from mimo_agent.server.schema import ChatCompletionRequest
from mimo_agent.server.turns import ThinkSplitter, TurnAssembler
from tests.server.live import WEATHER

CALL = "<tool_call>\n<function=get_weather>\n<parameter=city>Rome</parameter>\n<parameter=metric>false</parameter>\n</function>\n</tool_call>"
OUTPUT = "<think>plan <b>it</b></think>Checking.\n" + CALL


def chunkings(text: str) -> list[list[str]]:
    """The text whole, one character at a time, and split at every single position."""
    return [[text], list(text)] + [[text[:i], text[i:]] for i in range(1, len(text))]


def run(assembler: TurnAssembler, pieces: list[str], truncated: bool = False) -> list[dict]:
    deltas = [d for piece in pieces for d in assembler.feed(piece)]
    return deltas + assembler.finish(truncated)


def merged(deltas: list[dict]) -> dict:
    out = {"content": "", "reasoning_content": "", "calls": []}
    for delta in deltas:
        out["content"] += delta.get("content", "")
        out["reasoning_content"] += delta.get("reasoning_content", "")
        out["calls"] += delta.get("tool_calls", [])
    return out


@pytest.mark.parametrize("parse_calls", [False, True])
def test_any_chunking_gives_the_same_message(parse_calls: bool) -> None:
    reference = TurnAssembler([WEATHER], parse_calls)
    run(reference, [OUTPUT])
    for pieces in chunkings(OUTPUT):
        assembler = TurnAssembler([WEATHER], parse_calls)
        deltas = merged(run(assembler, pieces))
        message = assembler.message()
        assert (
            deltas["content"] == (message["content"] or "")
            and deltas["reasoning_content"] == message["reasoning_content"]
        )
        assert {k: v for k, v in message.items() if k != "tool_calls"} == {
            k: v for k, v in reference.message().items() if k != "tool_calls"
        }
    assert reference.message()["reasoning_content"] == "plan <b>it</b>"


def test_a_call_streams_as_header_then_arguments() -> None:
    assembler = TurnAssembler([WEATHER], parse_calls=True)
    deltas = run(assembler, list(OUTPUT))
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    header, arguments = calls
    assert header["index"] == arguments["index"] == 0 and header["id"].startswith("call_")
    assert header["function"] == {"name": "get_weather", "arguments": ""}
    assert json.loads(arguments["function"]["arguments"]) == {"city": "Rome", "metric": False}
    message = assembler.message()
    assert message["content"] == "Checking.\n" and message["tool_calls"][0]["id"] == header["id"]
    assert assembler.finish_reason("stop") == "tool_calls" and assembler.finish_reason("length") == "length"


def test_without_call_parsing_markup_is_content_and_a_cut_call_is_kept() -> None:
    plain = TurnAssembler([WEATHER], parse_calls=False)
    run(plain, ['{"name": "x", "arguments": {}}', CALL])
    assert plain.message() == {"role": "assistant", "content": '{"name": "x", "arguments": {}}' + CALL}
    cut = TurnAssembler([WEATHER], parse_calls=True)
    run(cut, ["Hi ", CALL[:40]], truncated=True)
    message = cut.message()
    assert "tool_calls" not in message and message["content"].startswith("Hi ")
    assert message["content"].endswith(CALL[len("<tool_call>\n") : 40]), "the cut call stays visible as text"
    assert cut.finish_reason("length") == "length"


@pytest.mark.parametrize(
    "pieces", [[CALL + "\n" + CALL + "\nDone. More"], list(CALL + "\n" + CALL + "\nDone. More")]
)
def test_required_calls_end_the_turn_at_prose(pieces: list[str]) -> None:
    """Regression: with tool_choice "required" and parallel calls, the grammar let prose run on after the
    calls (to the token budget, so finish_reason was "length"); the answer now ends at the calls."""
    forced = TurnAssembler([WEATHER], parse_calls=True, calls_only=True)
    deltas = merged(run(forced, pieces))
    assert forced.ended and len(deltas["calls"]) == 4 and deltas["content"] == ""
    assert forced.message()["content"] is None and len(forced.message()["tool_calls"]) == 2
    assert forced.finish_reason("length") == "tool_calls"
    free = TurnAssembler([WEATHER], parse_calls=True)
    run(free, pieces)
    assert not free.ended and free.message()["content"] == "\n\nDone. More"


def test_think_splitter_holds_back_a_cut_tag() -> None:
    splitter = ThinkSplitter()
    events = splitter.feed("<thi") + splitter.feed("nk>a</th") + splitter.feed("ink>b<") + splitter.finish()
    texts = [(type(e).__name__, e.text) for e in events if e.text]
    assert texts == [("ReasoningDelta", "a"), ("TextDelta", "b"), ("TextDelta", "<")]


def request(**fields: object) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}
    )


def test_request_fields_and_defaults() -> None:
    chat = request(
        stop="END",
        max_tokens=5,
        max_completion_tokens=9,
        tools=[WEATHER],
        chat_template_kwargs={"enable_thinking": True},
    )
    assert chat.stop_list == ["END"] and chat.max_new_tokens == 9 and chat.enable_thinking
    assert chat.effective_tool_choice == "auto" and request().effective_tool_choice == "none"
    developer = ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "developer", "content": [{"type": "text", "text": "x"}]}]}
    )
    assert developer.messages[0].to_template() == {
        "role": "system",
        "content": [{"type": "text", "text": "x"}],
    }


def test_any_int64_seed_is_a_distinct_repeatable_engine_seed() -> None:
    """Regression: seed=-1 (accepted by OpenAI) was refused, and seeds >= 2**63 overflowed into a 500."""
    seeds = [0, 1, 2**63 - 1, -1, -(2**63)]
    mapped = [request(seed=seed).sampling_seed for seed in seeds]
    assert mapped == [0, 1, 2**63 - 1, 2**64 - 1, 2**63] and request().sampling_seed is None
    assert all(SamplingParams(seed=seed).seed == seed for seed in mapped)


def test_unknown_chat_template_kwargs_are_ignored() -> None:
    chat = request(chat_template_kwargs={"enable_thinking": True, "separate_reasoning": True, "x": [1]})
    assert chat.enable_thinking


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user"}]}, "messages.0"),
        ({"messages": [{"role": "tool", "content": "x", "reasoning_content": "r"}]}, "messages.0"),
        ({"top_p": 0}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"seed": 2**63}, "seed"),
        ({"seed": -(2**63) - 1}, "seed"),
        ({"tools": [{"type": "function", "function": {"name": "has space"}}]}, "tools.0.function.name"),
        ({"response_format": {"type": "json_schema"}}, "response_format"),
        ({"tools": [WEATHER, WEATHER]}, "body"),
    ],
)
def test_bad_fields_name_their_path(fields: dict, param: str) -> None:
    with pytest.raises(ValidationError) as caught:
        request(**fields)
    error = from_validation(caught.value)
    assert error.status == 400 and (error.param or "").startswith(param), error.message
