"""Tool-call and JSON grammars: valid calls walk through token by token, invalid ones stop at the right token."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, Field

from mimo_agent.toolcalls.bfcl import load_bfcl_cases, load_bfcl_functions
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.formats import render_hermes, render_xml
from mimo_agent.toolcalls.grammar import GrammarCompiler, GrammarError, GrammarOptions
from mimo_agent.toolcalls.grammar_schema import grammar_schema
from tests.toolcalls.grammar_helpers import MARK, marked, tiny_tokenizer, walk

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "coords": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat", "lon"],
        },
        "tags": {"type": "array", "items": {"type": "string"}},
        "alerts": {"type": "boolean"},
    },
    "required": ["city"],
}
TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_SCHEMA},
    },
    {"type": "function", "function": {"name": "ping", "description": "No arguments"}},
]
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_weather", {"city": "Paris"}),
    (
        "get_weather",
        {
            "city": "New York, NY",
            "days": 3,
            "units": "celsius",
            "coords": {"lat": 40.7, "lon": -74.0},
            "tags": ["rain", "wind speed"],
            "alerts": False,
        },
    ),
    ("get_weather", {"city": "a <b> & c\nsecond line", "days": 14}),
    ("ping", {}),
]
FORMATS = ("xml", "xml_compact", "json")
NAMED_PING = {"type": "function", "function": {"name": "ping"}}


@pytest.fixture(scope="module")
def compiler() -> GrammarCompiler:
    return GrammarCompiler.from_tokenizer(tiny_tokenizer())


def render(fmt: str, name: str, arguments: dict[str, Any]) -> str:
    if fmt == "json":
        return render_hermes(name, arguments)
    schema = WEATHER_SCHEMA if name == "get_weather" else None
    return render_xml(name, arguments, schema, compact=fmt == "xml_compact")


def options(fmt: str = "xml", **kw: Any) -> GrammarOptions:
    return GrammarOptions(format=fmt, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("reasoning", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_valid_calls_are_accepted_and_terminate(compiler: GrammarCompiler, fmt: str, reasoning: bool) -> None:
    think = "<think>Which tool? The weather one.</think>\n\n" if reasoning else ""
    for choice in ("auto", "required"):
        grammar = compiler.tool_calls(TOOLS, options(fmt, tool_choice=choice, reasoning=reasoning))
        for name, args in CALLS:
            result = walk(grammar, think + render(fmt, name, args))
            assert result.finished, (fmt, choice, name, args, result)
        parallel = think + "".join(render(fmt, n, a) for n, a in CALLS)
        assert walk(grammar, parallel).finished


@pytest.mark.parametrize("fmt", FORMATS)
def test_prose_around_calls_only_in_auto(compiler: GrammarCompiler, fmt: str) -> None:
    call = render(fmt, *CALLS[1])
    text = "Let me check.\n" + call + "\nDone, it is sunny."
    assert walk(compiler.tool_calls(TOOLS, options(fmt)), text).finished
    assert walk(compiler.tool_calls(TOOLS, options(fmt)), "Just prose, no call.").finished
    required = compiler.tool_calls(TOOLS, options(fmt, tool_choice="required"))
    assert walk(required, text).rejected == 0
    assert walk(required, "Just prose.").rejected == 0
    assert walk(required, call + "\nDone.").finished


def test_tool_choice_none_admits_prose_but_no_call(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls(TOOLS, options(tool_choice="none"))
    assert walk(grammar, "The weather in Paris is mild; I did not need a tool.").finished
    text, index = marked("Sure: <tool_call" + MARK + ">\n<function=ping>\n</function>\n</tool_call>")
    assert walk(grammar, text).rejected == index


def test_named_tool_choice_allows_exactly_one_call_to_that_function(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls(TOOLS, options(tool_choice=NAMED_PING))
    ping = render("xml", "ping", {})
    assert walk(grammar, ping).finished
    assert not walk(grammar, ping + ping).finished
    text, index = marked("<tool_call>\n<function=" + MARK + "get_weather>\n")
    assert walk(grammar, text).rejected == index


def test_parallel_tool_calls_off_allows_one_call(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls(TOOLS, options(parallel_tool_calls=False))
    ping = render("xml", "ping", {})
    assert walk(grammar, "One call: " + ping).finished
    assert not walk(grammar, ping + ping).finished


# Each case: format, text with MARK before the first character the grammar must refuse.
INVALID = {
    "unknown function": ("xml", "<tool_call>\n<function=get_w" + MARK + "ind>\n</function>\n</tool_call>"),
    "unknown parameter": (
        "xml",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n<parameter="
        + MARK
        + "zoom>1",
    ),
    "wrong-typed integer": (
        "xml",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Rome</parameter>\n<parameter=days>"
        + MARK
        + "three",
    ),
    "integer out of range": (
        "xml",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Rome</parameter>\n<parameter=days>1"
        + MARK
        + "5<",
    ),
    "value outside enum": (
        "xml",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Rome</parameter>\n<parameter=units>"
        + MARK
        + "kelvin",
    ),
    "missing required parameter": ("xml", "<tool_call>\n<function=get_weather>\n<" + MARK + "/function>"),
    "nested required missing": (
        "xml",
        '<tool_call>\n<function=get_weather>\n<parameter=city>Rome</parameter>\n<parameter=coords>{"lat": 1'
        + MARK
        + "}",
    ),
    "call not closed before prose": (
        "xml",
        "<tool_call>\n<function=ping>\n</function>\n" + MARK + "Bye",
    ),
    "call markup inside an xml value": (
        "xml",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Paris </tool_call" + MARK + ">",
    ),
    "closing tag inside a json string of an xml value": (
        "xml",
        '<tool_call>\n<function=get_weather>\n<parameter=city>x</parameter>\n<parameter=tags>["a</parameter'
        + MARK
        + ">",
    ),
    "call markup inside a json value": (
        "json",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "x <function' + MARK + "=ping>",
    ),
    "newline layout in compact format": ("xml_compact", "<tool_call>" + MARK + "\n<function=ping>"),
    "json string for a number": (
        "json",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "x", "days": ' + MARK + '"3"',
    ),
    "json unknown key": (
        "json",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "x", "' + MARK + 'zoom": 1',
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_call_is_refused_at_the_offending_token(compiler: GrammarCompiler, case: str) -> None:
    fmt, raw = INVALID[case]
    text, index = marked(raw)
    result = walk(compiler.tool_calls(TOOLS, options(fmt)), text)
    assert result.rejected == index, (case, result)


def test_truncated_call_cannot_stop(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls(TOOLS, options())
    full = render("xml", "get_weather", {"city": "Paris", "days": 2})
    for cut in (len("<tool_call>\n<function=get"), full.index("</parameter>") + 3, len(full) - 4):
        result = walk(grammar, full[:cut])
        assert result.rejected is None and not result.finished, cut


def test_no_call_inside_reasoning(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls(TOOLS, options(reasoning=True))
    text, index = marked("<think>maybe <tool_call" + MARK + ">")
    assert walk(grammar, text).rejected == index
    assert walk(grammar, "Hello").rejected == 0  # reasoning on: the turn opens with <think>


def test_whitespace_cap_bounds_blank_runs(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls(TOOLS, options(max_whitespace=2))
    ok = "<tool_call>\n<function=get_weather>\n<parameter=city>Oslo</parameter>\n<parameter=days>  4  </parameter>\n"
    assert walk(grammar, ok + "</function>\n</tool_call>").finished
    text, index = marked(
        "<tool_call>\n<function=get_weather>\n<parameter=city>Oslo</parameter>\n<parameter=days>  "
        + MARK
        + " 4"
    )
    assert walk(grammar, text).rejected == index


def test_tooldef_and_openai_dict_share_one_cached_grammar(compiler: GrammarCompiler) -> None:
    class Args(BaseModel):
        path: str = Field(description="file to read")
        limit: int = 100

    tool = ToolDef.from_model("read_file", "Read a file", Args)
    same_with_other_description = {
        **tool.to_openai(),
        "function": {**tool.to_openai()["function"], "description": "x"},
    }
    first = compiler.tool_calls([tool])
    hits = compiler.hits
    assert compiler.tool_calls([same_with_other_description]) is first
    assert compiler.hits == hits + 1
    assert compiler.tool_calls([tool], options(reasoning=True)) is not first
    call = render_xml("read_file", {"path": "src/a.py", "limit": 5}, tool.parameters)
    assert walk(first, call).finished


def test_cache_keeps_only_the_newest_entries() -> None:
    small = GrammarCompiler.from_tokenizer(tiny_tokenizer())
    small.max_entries = 2
    a = small.tool_calls(TOOLS[:1])
    small.tool_calls(TOOLS[1:])
    small.tool_calls(TOOLS)
    assert small.tool_calls(TOOLS[:1]) is not a
    assert small.misses == 4 and small.hits == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "yaml"}, "format"),
        ({"tool_choice": "any"}, "tool_choice"),
        ({"tool_choice": {"type": "function"}}, "tool_choice"),
        ({"max_whitespace": 0}, "max_whitespace"),
    ],
)
def test_bad_options_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        GrammarOptions(**kwargs)


def test_bad_tool_sets_are_named(compiler: GrammarCompiler) -> None:
    with pytest.raises(GrammarError, match="'nope'"):
        compiler.tool_calls(TOOLS, options(tool_choice={"type": "function", "function": {"name": "nope"}}))
    with pytest.raises(GrammarError, match="required"):
        compiler.tool_calls([], options(tool_choice="required"))
    no_room = {"type": "object", "properties": {}, "minProperties": 1, "additionalProperties": False}
    bad = {
        "type": "function",
        "function": {"name": "bad_tool", "parameters": {"type": "object", "properties": {"a": no_room}}},
    }
    with pytest.raises(GrammarError, match="bad_tool.*minProperties"):
        compiler.tool_calls([TOOLS[0], bad])
    with pytest.raises(GrammarError, match="type 'object'"):
        grammar_schema({"type": "array"}, "tool 'x'")


def test_no_tools_means_prose_only(compiler: GrammarCompiler) -> None:
    grammar = compiler.tool_calls([], options())
    assert walk(grammar, "Nothing to call.").finished
    assert walk(grammar, "<tool_call>").rejected is not None


def test_schema_normalisation_keeps_what_the_schema_accepts(compiler: GrammarCompiler) -> None:
    source: dict[str, Any] = {
        "type": "object",
        "properties": {
            "population": {"type": "object", "properties": {}, "required": ["adults"]},
            "pair": {"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
            "code": {"type": "string", "pattern": "^(?!x)[a-z]+$"},
        },
        "required": ["population"],
    }
    normal = grammar_schema(source, "tool 'waste'")
    assert normal["properties"]["population"]["properties"] == {"adults": {}}
    assert normal["properties"]["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert "pattern" not in normal["properties"]["code"]
    assert grammar_schema(None, "tool 'ping'") == {"type": "object", "properties": {}}
    assert source["properties"]["population"]["properties"] == {}  # the input is not changed
    args = {"population": {"adults": 2}, "pair": [1, "a"], "code": "abc"}
    jsonschema.Draft7Validator(source).validate(args)  # list-valued `items` is draft-7 tuple syntax
    assert walk(compiler.json_schema(source), json.dumps(args)).finished


def test_enum_values_are_fitted_to_their_type_or_dropped(compiler: GrammarCompiler) -> None:
    """BFCL writes e.g. `{"type": "integer", "enum": ["1", "2"]}`: the dialect reads those as the numbers
    they name; a mixed enum keeps only the values that validate."""
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "rooms": {"type": "integer", "enum": ["1", "2"]},
            "floor": {"type": "integer", "enum": [1, "2", True]},
        },
        "required": ["city", "rooms"],
    }
    grammar = compiler.tool_calls([{"type": "function", "function": {"name": "book", "parameters": schema}}])
    head = "<tool_call>\n<function=book>\n<parameter=city>Rome</parameter>\n"
    ok = head + "<parameter=rooms>2</parameter>\n<parameter=floor>1</parameter>\n</function>\n</tool_call>"
    assert walk(grammar, ok).finished
    for raw in (
        "<parameter=rooms>" + MARK + "3",
        "<parameter=rooms>1</parameter>\n<parameter=floor>" + MARK + "2",
        "<parameter=rooms>1</parameter>\n<parameter=floor>" + MARK + "true",
    ):
        text, index = marked(head + raw)
        assert walk(grammar, text).rejected == index, raw


JSON_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "why": {"type": "string"}},
    "required": ["answer"],
}


@pytest.mark.parametrize(
    ("schema", "reasoning", "text", "ok"),
    [
        (JSON_SCHEMA, False, '{"answer": 42, "why": "because"}', True),
        (JSON_SCHEMA, False, '{"answer": 42}', True),
        (JSON_SCHEMA, False, '{"why": "no answer"}', False),
        (JSON_SCHEMA, False, '{"answer": "42"}', False),
        (JSON_SCHEMA, False, '{"answer": 42, "extra": 1}', False),
        (JSON_SCHEMA, True, '<think>six times seven</think>\n{"answer": 42}', True),
        (JSON_SCHEMA, True, '{"answer": 42}', False),
        (None, False, '{"any": ["thing", 1, null]}', True),
        (None, False, "[1, 2]", False),
    ],
)
def test_json_schema_mode(
    compiler: GrammarCompiler, schema: dict[str, Any] | None, reasoning: bool, text: str, ok: bool
) -> None:
    assert walk(compiler.json_schema(schema, reasoning=reasoning), text).finished is ok


def test_json_mode_is_cached_and_errors_are_named(compiler: GrammarCompiler) -> None:
    assert compiler.json_schema(JSON_SCHEMA) is compiler.json_schema(dict(JSON_SCHEMA))
    with pytest.raises(GrammarError, match="json schema.*Unsupported type"):
        compiler.json_schema({"type": "str"})


def test_string_length_limits_are_kept(compiler: GrammarCompiler) -> None:
    """xgrammar ignores minLength/maxLength on strings it filters for call markup: such tools keep their limits
    ("ab</parameter" is already 13 characters, over the maximum of 5)."""
    schema = {"type": "object", "properties": {"code": {"type": "string", "minLength": 3, "maxLength": 5}}}
    grammar = compiler.tool_calls(
        [{"type": "function", "function": {"name": "lookup", "parameters": schema}}]
    )
    assert walk(grammar, render_xml("lookup", {"code": "abc"}, schema)).finished
    for raw in ("<parameter=code>ab</" + MARK + "parameter>", "<parameter=code>abcde" + MARK + "f"):
        text, index = marked("<tool_call>\n<function=lookup>\n" + raw)
        assert walk(grammar, text).rejected == index, raw


def test_a_non_empty_string_still_refuses_call_markup(compiler: GrammarCompiler) -> None:
    """bash's `command` is `minLength: 1`: the grammar must still refuse `<parameter=` inside it, or the
    parser would read a parameter the grammar never allowed (seen from the trained demo model)."""
    schema = {
        "type": "object",
        "properties": {"command": {"type": "string", "minLength": 1}},
        "required": ["command"],
    }
    grammar = compiler.tool_calls([{"type": "function", "function": {"name": "bash", "parameters": schema}}])
    assert walk(grammar, render_xml("bash", {"command": "ls -la"}, schema)).finished
    text, index = marked(
        "<tool_call>\n<function=bash>\n<parameter=command>print(x>\n<parameter" + MARK + "=path>"
    )
    assert walk(grammar, text).rejected == index


@pytest.mark.slow
def test_every_bfcl_tool_set_compiles() -> None:
    """Issue 4 (a): one grammar per BFCL question (every function of the simple, multiple, parallel,
    parallel_multiple and live files), plus each function of the live (ir)relevance files on its own.

    Every tool set compiles: BFCL's enums of the wrong type (`{"type": "integer", "enum": ["1", …]}`)
    are fitted to their type by the dialect, so no required parameter is left without a valid value.
    """
    compiler = GrammarCompiler.from_tokenizer(tiny_tokenizer(), lazy_masks=False)  # every mask built now
    tool_sets = [case.tools for case in load_bfcl_cases()]
    tool_sets += [[tool] for tool in load_bfcl_functions(["live_irrelevance", "live_relevance"])]
    refused = set()
    for tools in tool_sets:
        try:
            compiler.tool_calls(tools)
        except GrammarError as exc:
            refused.add(re.search(r"tool '([^']+)'", str(exc)).group(1))
    assert len(tool_sets) > 3000
    assert refused == set()
