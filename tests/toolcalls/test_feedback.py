"""Feedback for failed calls."""

from __future__ import annotations

import pytest

from mimo_agent.toolcalls.feedback import example_value, feedback_for
from mimo_agent.toolcalls.parser import parse
from mimo_agent.toolcalls.validate import validate_arguments
from tests.toolcalls.sample_tools import TOOLS, WEATHER, WRITE


def test_feedback_names_the_problem_the_schema_and_a_valid_example() -> None:
    (call,) = parse(
        "<tool_call>\n<function=get_weather>\n<parameter=days>0</parameter>\n</function>\n</tool_call>", TOOLS
    ).calls
    text = feedback_for(call, TOOLS, "xml")
    assert "`city`: missing required parameter 'city'" in text
    assert "`days`:" in text and "minimum" in text
    assert '"required": ["city"]' in text
    example = text.split("A valid call looks like:\n")[1].split("\nWrite the corrected call.")[0]
    (again,) = parse(example, TOOLS, "xml").calls
    assert again.ok and again.name == "get_weather"


def test_feedback_example_uses_the_active_format() -> None:
    (call,) = parse('<tool_call>{"name": "write_file", "arguments": {"path": 3}}</tool_call>', TOOLS).calls
    text = feedback_for(call, TOOLS, "json")
    assert '{"name": "write_file", "arguments": {"path": "text", "content": "text"}}' in text


def test_unknown_tool_lists_the_tools() -> None:
    (call,) = parse("<tool_call>\n<function=launch_rocket>\n</function>\n</tool_call>", TOOLS).calls
    text = feedback_for(call, TOOLS)
    assert "unknown tool 'launch_rocket'" in text
    assert "Available tools: get_weather, write_file." in text


def test_unreadable_call_says_so() -> None:
    (call,) = parse("<tool_call>get the weather, please</tool_call>", TOOLS).calls
    assert feedback_for(call, TOOLS).startswith("Your tool call could not be read.")


@pytest.mark.parametrize("schema", [WEATHER.parameters, WRITE.parameters])
def test_example_values_satisfy_their_schema(schema: dict) -> None:
    assert validate_arguments(example_value(schema), schema) == []
