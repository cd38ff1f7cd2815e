"""Tools whose schemas use `$ref` (pydantic writes them for nested models) parse and repair like any other."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from mimo_agent.toolcalls.parser import parse
from mimo_agent.toolcalls.refs import inline_refs
from mimo_agent.toolcalls.toolset import ToolSet


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
