"""Repair of unconstrained output: each rule fires on its shape and is recorded; ambiguity is an error."""

from __future__ import annotations

import pytest

from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.parser import parse
from tests.toolcalls.sample_tools import TOOLS

XML = "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>"
PARIS = {"city": "Paris"}

CASES = [
    # (model output, format asked for, arguments expected, rules expected)
    (
        "<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>",
        "xml",
        PARIS,
        ["missing_open_tag"],
    ),
    (XML.replace("\n</tool_call>", "") + " trailing words", "xml", PARIS, ["missing_close_tag"]),
    (
        "<tool_call>\n<function=get_weather>\n<parameter=city>Paris\n</function>\n</tool_call>",
        "xml",
        PARIS,
        ["missing_close_tag"],
    ),
    (f"<think>I should call {XML}</think>", "xml", PARIS, ["call_in_think"]),
    (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "days": "2"}}</tool_call>',
        "json",
        {**PARIS, "days": 2},
        ["wrong_type_value"],
    ),
    (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "metric": "false"}}</tool_call>',
        "json",
        {**PARIS, "metric": False},
        ["wrong_type_value"],
    ),
    (
        '<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "b", "tags": "[\\"x\\"]"}}</tool_call>',
        "json",
        {"path": "a", "content": "b", "tags": ["x"]},
        ["wrong_type_value"],
    ),
    (
        '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}</tool_call>',
        "json",
        PARIS,
        ["double_encoded_arguments"],
    ),
    (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>',
        "xml",
        PARIS,
        ["json_instead_of_xml"],
    ),
    (XML, "json", PARIS, ["xml_instead_of_json"]),
    ('{"name": "get_weather", "arguments": {"city": "Paris"}}', "auto", PARIS, ["bare_json_call"]),
    (f"<function_calls>\n{XML}\n</function_calls>", "xml", PARIS, ["wrapper_tag"]),
    (f"```xml\n{XML}\n```", "xml", PARIS, ["markdown_fence"]),
    (
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        "auto",
        PARIS,
        ["markdown_fence", "bare_json_call"],
    ),
    (
        "<|tool_calls_section_begin|> <|tool_call_begin|> functions.get_weather:0 <|tool_call_argument_begin|> "
        '{"city": "Paris"} <|tool_call_end|> <|tool_calls_section_end|>',
        "xml",
        PARIS,
        ["foreign_format", "functions_prefix"],
    ),
    (
        '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```'
        "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
        "xml",
        PARIS,
        ["foreign_format"],
    ),
    (
        '<function_calls>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n</invoke>\n'
        "</function_calls>",
        "xml",
        PARIS,
        ["wrapper_tag", "foreign_format"],
    ),
    (
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>",
        "xml",
        PARIS,
        ["foreign_format"],
    ),
    (
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        "xml",
        PARIS,
        ["foreign_format"],
    ),
    (
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}',
        "xml",
        PARIS,
        ["foreign_format", "parameters_key"],
    ),
    (
        '<tool_call>{"name": "get_weather", "parameters": {"city": "Paris"}}</tool_call>',
        "json",
        PARIS,
        ["parameters_key"],
    ),
    (XML.replace("=get_weather", "=functions.get_weather"), "xml", PARIS, ["functions_prefix"]),
    (XML.replace("=get_weather", "=get_wether"), "xml", PARIS, ["fuzzy_tool_name"]),
    (XML.replace("=get_weather", "=getWeather"), "xml", PARIS, ["fuzzy_tool_name"]),
    (XML.replace("=city", "=cty"), "xml", PARIS, ["fuzzy_parameter_name"]),
    (
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "unit": "Celsius"}}</tool_call>',
        "json",
        {**PARIS, "unit": "celsius"},
        ["enum_case"],
    ),
    ("<tool_call>\n<function=get_weather>\n<parameter=city>Paris", "xml", None, None),
    (XML[: XML.index("</function>")], "xml", PARIS, ["truncated_call"]),
    ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"', "json", PARIS, ["truncated_call"]),
    (
        "<tool_call>{'name': 'get_weather', 'arguments': {'city': 'Paris'}}</tool_call>",
        "json",
        PARIS,
        ["broken_json"],
    ),
]


@pytest.mark.parametrize(("text", "fmt", "args", "rules"), CASES)
def test_each_shape_is_repaired_and_recorded(
    text: str, fmt: str, args: dict | None, rules: list[str] | None
) -> None:
    result = parse(text, TOOLS, fmt)  # type: ignore[arg-type]
    (call,) = result.calls
    if args is None:
        assert not call.ok
        return
    assert call.ok, call.errors
    assert call.arguments == args
    assert call.repairs == rules
    assert "<" not in result.text and "{" not in result.text


def test_several_calls_in_one_block_and_concatenated_blocks() -> None:
    two = (
        "<tool_call>\n<function=get_weather>\n<parameter=city>A</parameter>\n</function>\n"
        "<function=get_weather>\n<parameter=city>B</parameter>\n</function>\n</tool_call>"
    )
    calls = parse(two, TOOLS).calls
    assert [c.arguments["city"] for c in calls] == ["A", "B"]
    assert all(c.repairs == ["several_calls_in_one_block"] for c in calls)
    joined = parse(XML + XML.replace("Paris", "Rome"), TOOLS).calls
    assert [c.arguments["city"] for c in joined] == ["Paris", "Rome"]
    assert all(c.repairs == [] for c in joined)
    hermes = '<tool_call>{"name": "get_weather", "arguments": {"city": "A"}}{"name": "get_weather", "arguments": {"city": "B"}}</tool_call>'
    assert [c.arguments["city"] for c in parse(hermes, TOOLS).calls] == ["A", "B"]


def test_literal_close_tag_inside_a_value_is_kept() -> None:
    text = XML.replace("Paris", "a </parameter> b").replace("<parameter=city>", "<parameter=city>")
    text = text.replace("</function>", "<parameter=days>2</parameter>\n</function>")
    (call,) = parse(text, TOOLS).calls
    assert call.arguments == {"city": "a </parameter> b", "days": 2}
    assert call.repairs == ["close_tag_in_value"]


def test_truncation_inside_a_value_is_an_error_not_a_shorter_value() -> None:
    text = "<tool_call>\n<function=write_file>\n<parameter=path>a.py</parameter>\n<parameter=content>def f(:"
    (call,) = parse(text, TOOLS).calls
    assert not call.ok
    assert "content" not in call.arguments
    assert call.errors[0].got == "cut off"


def test_truncation_with_a_required_parameter_missing_is_an_error() -> None:
    text = "<tool_call>\n<function=write_file>\n<parameter=path>a.py</parameter>\n"
    (call,) = parse(text, TOOLS).calls
    assert [e.path for e in call.errors] == ["content"]


def test_a_model_that_stopped_by_itself_keeps_its_last_unclosed_value() -> None:
    text = "<tool_call>\n<function=get_weather>\n<parameter=city>Paris"
    (call,) = parse(text, TOOLS, truncated=False).calls
    assert call.ok
    assert call.arguments == PARIS
    assert "missing_close_tag" in call.repairs


def test_ambiguous_tool_name_is_an_error() -> None:
    tools = [
        ToolDef("read_a", "", {"type": "object", "properties": {}}),
        ToolDef("read_b", "", {"type": "object", "properties": {}}),
    ]
    (call,) = parse("<tool_call>\n<function=read_c>\n</function>\n</tool_call>", tools).calls
    assert not call.ok
    assert call.errors[0].message == "unknown tool 'read_c'"


def test_ambiguous_parameter_name_is_an_error() -> None:
    schema = {"type": "object", "properties": {"src_a": {"type": "string"}, "src_b": {"type": "string"}}}
    tools = [ToolDef("copy", "", schema)]
    (call,) = parse(
        "<tool_call>\n<function=copy>\n<parameter=src_c>x</parameter>\n</function>\n</tool_call>", tools
    ).calls
    assert not call.ok
    assert call.errors[0].got == "unknown parameter"


def test_a_bare_name_in_a_block_is_a_call_without_arguments() -> None:
    """GLM writes `<tool_call>NAME</tool_call>` for a call with no arguments; validation still applies."""
    (call,) = parse("<tool_call>get_weather\n</tool_call>", TOOLS).calls
    assert (call.name, call.arguments, call.repairs) == ("get_weather", {}, ["foreign_format"])
    assert [e.path for e in call.errors] == ["city"]


def test_unreadable_block_is_a_failed_call_never_empty_arguments_that_pass() -> None:
    (call,) = parse("<tool_call>get the weather please</tool_call>", TOOLS).calls
    assert not call.ok
    assert call.arguments == {}
    assert call.errors[0].path == ""


def test_wrong_value_that_cannot_be_read_is_reported_with_path() -> None:
    (call,) = parse(XML.replace("</function>", "<parameter=days>many</parameter>\n</function>"), TOOLS).calls
    assert not call.ok
    assert (call.errors[0].path, call.errors[0].got) == ("days", '"many"')


def test_json_in_prose_that_names_no_tool_stays_text() -> None:
    text = 'The config is {"name": "my-package", "arguments": {"x": 1}} as shown.'
    result = parse(text, TOOLS)
    assert result.calls == []
    assert result.text == text


def test_schemaless_parsing_takes_any_name() -> None:
    (call,) = parse(
        "<tool_call>\n<function=anything>\n<parameter=n>3</parameter>\n</function>\n</tool_call>", None
    ).calls
    assert (call.name, call.arguments, call.ok) == ("anything", {"n": 3}, True)


def test_flat_arguments_count_inside_a_block_but_not_in_prose() -> None:
    flat = '{"name": "get_weather", "city": "Paris"}'
    (call,) = parse(f"<tool_call>{flat}</tool_call>", TOOLS).calls
    assert (call.arguments, call.repairs) == (PARIS, ["flat_arguments"])
    prose = parse(f"x {flat} y", TOOLS)
    assert (prose.calls, prose.text) == ([], f"x {flat} y")


@pytest.mark.parametrize(
    "cut",
    [
        '"days": 3',  # a number may have gone on: 3 of 30
        '"days": 3.',
        '"metric": tru',
        '"tags": ["a", "b"',  # an open array may have had more items
        '"tags": [',
        '"options": {"mode": 1',  # so may a nested object
        '"options": {',
    ],
)
def test_json_cut_inside_a_value_is_an_error_not_a_shorter_value(cut: str) -> None:
    tool = "get_weather" if "days" in cut or "metric" in cut else "write_file"
    head = '"city": "Paris", ' if tool == "get_weather" else '"path": "a", "content": "b", '
    text = f'<tool_call>{{"name": "{tool}", "arguments": {{{head}{cut}'
    (call,) = parse(text, TOOLS, "json").calls
    assert not call.ok
    assert call.errors[0].message == "output ended inside the JSON arguments"


def test_json_cut_after_a_complete_value_keeps_the_values_written() -> None:
    text = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "metric": true'
    (call,) = parse(text, TOOLS, "json").calls
    assert (call.ok, call.arguments, call.repairs) == (True, {**PARIS, "metric": True}, ["truncated_call"])


def test_a_string_left_open_before_the_close_tag_is_an_error() -> None:
    """json-repair would close it (`"Par` → "Par"): a value the model did not finish."""
    (call,) = parse('<tool_call>{"name": "get_weather", "arguments": {"city": "Par</tool_call>', TOOLS).calls
    assert not call.ok and call.arguments == {}
    text = "<tool_call>\n<function=write_file>\n<parameter=path>a</parameter>\n<parameter=content>b</parameter>\n"
    (call,) = parse(text + '<parameter=tags>["x", "y</parameter>\n</function>\n</tool_call>', TOOLS).calls
    assert [e.path for e in call.errors] == ["tags"]


def test_a_distance_tie_is_not_broken_by_the_substring_rule() -> None:
    schema = {"type": "object", "properties": {}}
    tools = [ToolDef("get_weather", "", schema), ToolDef("get_weathers", "", schema)]
    (call,) = parse("<tool_call>\n<function=get_weatherz>\n</function>\n</tool_call>", tools).calls
    assert not call.ok
    assert call.errors[0].message == "unknown tool 'get_weatherz'"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "A", "city": "B"}}</tool_call>', "city"),
        ('{"name": "get_weather", "arguments": "{\\"city\\": \\"A\\", \\"city\\": \\"B\\"}"}', "city"),
        (
            '<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "b", '
            '"options": {"mode": 1, "mode": 2}}}</tool_call>',
            "options/mode",
        ),
        (
            "<tool_call>\n<function=write_file>\n<parameter=path>a</parameter>\n<parameter=content>b"
            '</parameter>\n<parameter=options>{"mode": 1, "mode": 2}</parameter>\n</function>\n</tool_call>',
            "options/mode",
        ),
    ],
)
def test_a_key_given_twice_in_json_is_an_error_as_in_xml(text: str, path: str) -> None:
    (call,) = parse(text, TOOLS).calls
    assert not call.ok
    assert [e.path for e in call.errors] == [path]
    assert call.errors[0].message.endswith("given twice")


KIMI = "<|tool_call_begin|> functions.get_weather:0 <|tool_call_argument_begin|> "


@pytest.mark.parametrize(
    ("args", "ok"),
    [
        ('{"city": "Paris", "days": 3', False),
        ('{"city": "Paris", "days": 3}', True),
        ('{"city": "Paris"', True),
    ],
)
def test_another_models_call_cut_off_is_closed_only_between_parameters(args: str, ok: bool) -> None:
    (call,) = parse(KIMI + args, TOOLS, "xml").calls
    assert call.ok == ok
    if not ok:
        assert call.errors[0].message == "output ended inside the JSON arguments"
