"""Tools whose schemas use `$ref` (pydantic writes them for nested models) parse and repair like any other;
a `$ref` that points nowhere is refused when the tools are read."""

from __future__ import annotations

import json
import re
from typing import Literal

import pytest
from pydantic import BaseModel

from mimo_agent.toolcalls.corpus import check_corpus
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.parser import parse
from mimo_agent.toolcalls.refs import inline_refs
from mimo_agent.toolcalls.toolset import ToolSet, ToolSpecError


class Item(BaseModel):
    content: str
    status: Literal["pending", "done"]


class Plan(BaseModel):
    items: list[Item]


class Node(BaseModel):
    name: str
    children: list[Node] = []


def _tools(model: type[BaseModel]) -> ToolSet:
    return ToolSet(
        [{"type": "function", "function": {"name": "plan", "parameters": model.model_json_schema()}}]
    )


def _call(value: str, tools: ToolSet):
    text = (
        f"<tool_call>\n<function=plan>\n<parameter=items>\n{value}\n</parameter>\n</function>\n</tool_call>"
    )
    (call,) = parse(text, tools, "xml").calls
    return call


def test_refs_are_inlined_and_defs_dropped() -> None:
    schema = inline_refs(Plan.model_json_schema())
    assert "$defs" not in schema
    assert schema["properties"]["items"]["items"]["properties"]["status"]["enum"] == ["pending", "done"]


def test_a_wrong_value_inside_a_referenced_model_is_reported_not_raised() -> None:
    call = _call('"not a list"', _tools(Plan))
    assert call.errors and call.errors[0].path == "items"
    call = _call('[{"content": "x", "status": "DONE"}]', _tools(Plan))
    assert call.errors == [] and call.arguments["items"][0]["status"] == "done"


def test_recursive_refs_keep_their_definitions_and_still_validate() -> None:
    schema = inline_refs(
        {"$defs": {"Node": Node.model_json_schema()["$defs"]["Node"]}, "$ref": "#/$defs/Node"}
    )
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert "Node" in schema["$defs"]
    tools = ToolSet([{"type": "function", "function": {"name": "plan", "parameters": {
        "type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "$defs": schema["$defs"]}}}])  # fmt: skip
    assert _call('[{"name": "a", "children": [{"name": "b"}]}]', tools).errors == []
    bad = _call('[{"name": "a", "children": [{"name": 3}]}]', tools)
    assert bad.errors and "items/0/children/0/name" in bad.errors[0].path


@pytest.mark.parametrize("ref", ["#/$defs/Missing", "#/properties/nowhere", "other.json#/x"])
def test_a_ref_pointing_nowhere_is_refused_naming_the_tool_and_the_ref(ref: str) -> None:
    schema = {"type": "object", "properties": {"item": {"$ref": ref}}, "$defs": {"Item": {"type": "string"}}}
    for tool in (
        {"type": "function", "function": {"name": "plan", "parameters": schema}},
        ToolDef("plan", "", schema),
    ):
        with pytest.raises(ToolSpecError, match=rf"tool 'plan': \$ref '{re.escape(ref)}' points nowhere"):
            ToolSet([tool])


def test_a_corpus_case_with_a_dangling_ref_is_a_malformed_line_not_an_internal_error() -> None:
    tool = {"type": "function", "function": {"name": "plan", "parameters": {"$ref": "#/$defs/X"}}}
    line = json.dumps(
        {"id": 1, "raw": "<tool_call>\n<function=plan>\n</function>\n</tool_call>", "tools": [tool]}
    )
    *results, summary = check_corpus([line])
    assert summary.internal_errors == 0 and summary.cases == 0
    assert "'#/$defs/X' points nowhere" in summary.malformed[0]["error"]
    assert results[0]["id"] is None
