"""Rendering calls (XML, compact XML, Hermes JSON, OpenAI) and reading them back."""

from __future__ import annotations

import json

import pytest

from mimo_agent.toolcalls.calls import ToolCall
from mimo_agent.toolcalls.convert import same_value
from mimo_agent.toolcalls.formats import (
    from_openai,
    render_call,
    render_hermes,
    render_value,
    render_xml,
    to_openai,
)
from mimo_agent.toolcalls.parser import parse
from tests.toolcalls.sample_tools import TOOLS, WEATHER, WRITE


def test_xml_matches_the_reference_layout() -> None:
    """The §7 worked example: `<tool_call>\\n<function=get_weather>\\n<parameter=city>Paris</parameter>\\n…`."""
    text = render_xml("get_weather", {"city": "Paris"}, WEATHER.parameters)
    assert (
        text
        == "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>"
    )
    compact = render_xml("get_weather", {"city": "Paris", "days": 2}, WEATHER.parameters, compact=True)
    expected = "<tool_call><function=get_weather><parameter=city>Paris</parameter><parameter=days>2</parameter></function></tool_call>"
    assert compact == expected


def test_hermes_layout() -> None:
    text = render_hermes("get_weather", {"city": "Paris"})
    assert text == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


@pytest.mark.parametrize(
    ("value", "schema", "text"),
    [
        ("Paris", {"type": "string"}, "Paris"),
        (3, {"type": "integer"}, "3"),
        ([1, 2], {"type": "array"}, "[1, 2]"),
        ("5", {"anyOf": [{"type": "integer"}, {"type": "string"}]}, '"5"'),
        ("true", None, '"true"'),
        ("\nblock\n", {"type": "string"}, "\n\nblock\n\n"),
        ("null", {"type": "string"}, "null"),
    ],
)
def test_values_are_written_so_they_read_back(value: object, schema: dict | None, text: str) -> None:
    assert render_value(value, schema) == text


ARGS = [
    ("get_weather", {"city": "São Paulo", "days": 3, "metric": False, "unit": "celsius"}),
    ("write_file", {"path": "a.py", "content": "x = '<b>'\n\nif a < b:\n    pass\n", "tags": ["x", "y"]}),
    (
        "write_file",
        {"path": "b", "content": "\nwrapped\n", "options": {"mode": 420, "backup": True}, "limit": None},
    ),
    ("write_file", {"path": "c", "content": "ends with </parameter> inside", "limit": 5}),
]


@pytest.mark.parametrize(("name", "args"), ARGS)
@pytest.mark.parametrize("fmt", ["xml", "xml_compact", "json"])
def test_every_format_round_trips(name: str, args: dict, fmt: str) -> None:
    text = render_call(ToolCall(name, args), fmt, TOOLS)  # type: ignore[arg-type]
    (call,) = parse(text, TOOLS, "json" if fmt == "json" else "xml").calls
    assert call.ok, call.errors
    assert call.name == name
    assert same_value(call.arguments, args)


def test_openai_entries_both_ways() -> None:
    call = ToolCall("get_weather", {"city": "Oslo", "days": 2}, id="call_7")
    entry = to_openai(call)
    assert entry == {
        "id": "call_7",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Oslo", "days": 2})},
    }
    back = from_openai(entry, TOOLS)
    assert (back.name, back.arguments, back.id, back.repairs) == (
        "get_weather",
        {"city": "Oslo", "days": 2},
        "call_7",
        [],
    )


def test_openai_entries_from_sloppy_servers_are_repaired() -> None:
    twice = json.dumps(json.dumps({"city": "Oslo", "days": "2"}))
    call = from_openai({"id": "x", "function": {"name": "functions.get_weather", "arguments": twice}}, TOOLS)
    assert call.ok
    assert call.arguments == {"city": "Oslo", "days": 2}
    assert call.repairs == ["double_encoded_arguments", "functions_prefix", "wrong_type_value"]


def test_openai_entry_that_is_not_an_object_is_a_failed_call() -> None:
    call = from_openai({"function": {"name": "write_file", "arguments": "[1, 2]"}}, [WRITE])
    assert not call.ok
    assert call.arguments == {}
    assert call.errors[0].message == "arguments are not an object"
