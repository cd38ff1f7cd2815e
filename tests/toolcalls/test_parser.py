"""The streaming parser: events, held-back tag prefixes, and equality with the one-shot parse for every split."""

from __future__ import annotations

import random

import pytest

from mimo_agent.toolcalls.events import (
    CallArgumentsDelta,
    CallCompleted,
    CallFailed,
    CallStarted,
    ReasoningDelta,
    TextDelta,
    collect,
    normalise,
)
from mimo_agent.toolcalls.formats import render_hermes, render_xml
from mimo_agent.toolcalls.parser import StreamParser, parse, parse_events
from tests.toolcalls.sample_tools import TOOLS, WEATHER

CALL = render_xml("get_weather", {"city": "Paris", "days": 3}, WEATHER.parameters)
JSON_CALL = render_hermes("get_weather", {"city": "Rome"})

SAMPLES = [
    f"Sure. {CALL} Done.",
    f"<think>Need weather {CALL}</think>",
    f"<think>plan</think>Text {CALL}{JSON_CALL}",
    f"<wrapper>\n{CALL}\n</wrapper> after",
    'Calling {"name": "get_weather", "arguments": {"city": "Oslo"}} now',
    f"```xml\n{CALL}\n```",
    CALL[:-25],
    CALL[:60],
    "<|tool_calls_section_begin|><|tool_call_begin|> functions.get_weather:0 <|tool_call_argument_begin|>"
    ' {"city": "Oslo"} <|tool_call_end|><|tool_calls_section_end|> ok',
    "Plain <b>html</b> and {json: 1} and ```code``` and a < b > c, no calls.",
    f"<function=get_weather><parameter=city>X</parameter></function></tool_call> then {CALL}",
    "<tool_call>not a call at all</tool_call> text",
    "<think>unclosed reasoning <tool_",
    "text ending in a tag prefix <tool_ca",
]


def stream(text: str, cuts: list[int]) -> list:
    parser = StreamParser(TOOLS)
    events, last = [], 0
    for cut in [*cuts, len(text)]:
        events += parser.feed(text[last:cut])
        last = cut
    return events + parser.finish()


@pytest.mark.parametrize("text", SAMPLES)
def test_every_two_way_split_gives_the_one_shot_events(text: str) -> None:
    expected = normalise(parse_events(text, TOOLS))
    for i in range(len(text) + 1):
        assert normalise(stream(text, [i])) == expected, f"split at {i}"


@pytest.mark.parametrize("text", SAMPLES)
def test_char_by_char_and_random_splits_give_the_one_shot_events(text: str) -> None:
    expected = normalise(parse_events(text, TOOLS))
    assert normalise(stream(text, list(range(len(text))))) == expected
    rng = random.Random(len(text))
    for _ in range(30):
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(2, 8))))
        assert normalise(stream(text, cuts)) == expected, cuts


def test_events_of_a_well_formed_call() -> None:
    events = normalise(parse_events(f"Hi {CALL} bye", TOOLS))
    assert events[0] == TextDelta("Hi ")
    assert events[1] == CallStarted(0, "get_weather")
    assert isinstance(events[2], CallArgumentsDelta)
    assert "<parameter=city>Paris</parameter>" in events[2].text
    assert isinstance(events[3], CallCompleted)
    assert events[3].call.arguments == {"city": "Paris", "days": 3}
    assert events[4] == TextDelta(" bye")


def test_call_start_is_announced_before_the_call_closes() -> None:
    parser = StreamParser(TOOLS)
    events = parser.feed("<tool_call>\n<function=get_weather>\n<parameter=city>Pa")
    assert CallStarted(0, "get_weather") in events
    assert not any(isinstance(e, (CallCompleted, CallFailed)) for e in events)


@pytest.mark.parametrize("prefix", ["<", "<tool", "<tool_call", "<thi", "</think", "{", '{"na'])
def test_a_tag_prefix_is_never_shown_as_text(prefix: str) -> None:
    parser = StreamParser(TOOLS)
    shown = "".join(e.text for e in parser.feed("Hello " + prefix) if isinstance(e, TextDelta))
    assert shown == "Hello "


def test_held_prefix_is_released_when_it_turns_out_to_be_text() -> None:
    parser = StreamParser(TOOLS)
    parser.feed("a <too")
    shown = "".join(e.text for e in parser.feed("k> b") if isinstance(e, TextDelta))
    assert shown == "<took> b"


def test_reasoning_is_separated_and_can_start_open() -> None:
    result = parse("<think>because</think>answer", TOOLS)
    assert (result.reasoning, result.text, result.calls) == ("because", "answer", [])
    opened = parse("still thinking</think>answer", TOOLS, in_reasoning=True)
    assert (opened.reasoning, opened.text) == ("still thinking", "answer")
    events = parse_events("<think>a</think>", TOOLS)
    assert normalise(events) == [ReasoningDelta("a")]


def test_collect_matches_parse() -> None:
    text = SAMPLES[2]
    assert collect(parse_events(text, TOOLS)) == parse(text, TOOLS)


def test_native_calls_from_a_server_are_added() -> None:
    native = [{"id": "srv_1", "function": {"name": "get_weather", "arguments": '{"city": "Lima"}'}}]
    result = parse("Checking.", TOOLS, native_calls=native)
    assert [(c.id, c.name, c.arguments) for c in result.calls] == [("srv_1", "get_weather", {"city": "Lima"})]


def test_streaming_result_equals_parse() -> None:
    parser = StreamParser(TOOLS)
    for chunk in (SAMPLES[2][:17], SAMPLES[2][17:40], SAMPLES[2][40:]):
        parser.feed(chunk)
    parser.finish()
    assert parser.result == parse(SAMPLES[2], TOOLS)


FRAGMENTS = [
    "<",
    ">",
    "</",
    "<tool_call>",
    "</tool_call>",
    "<function=",
    "</function>",
    "<parameter=",
    "</parameter>",
]
FRAGMENTS += ["{", "}", '"', "\n", "```", "<think>", "</think>", "[", "]", ":", ","]


def test_mutated_outputs_never_crash_and_stream_like_one_shot() -> None:
    """Random splices of tag fragments into real outputs: the chunking must never change the events."""
    rng = random.Random(7)
    for _ in range(600):
        text = "".join(rng.choice(SAMPLES) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(FRAGMENTS) + text[i + rng.randint(0, 3) :]
        expected = normalise(parse_events(text, TOOLS))
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(1, 10))))
        assert normalise(stream(text, cuts)) == expected, (text, cuts)
