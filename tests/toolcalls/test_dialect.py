"""Loose type names (SGLang's rules) become JSON Schema, so such tools validate and parse typed."""

from __future__ import annotations

import pytest

from mimo_agent.toolcalls.dialect import json_type, to_json_schema
from mimo_agent.toolcalls.parser import parse


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("int64", "integer"),
        ("uint8", "integer"),
        ("Long", "integer"),
        ("float32", "number"),
        ("double", "number"),
        ("dict[str, int]", "object"),
        ("HashMap", "object"),
        ("List[str]", "array"),
        ("tuple", "array"),
        ("Boolean", "boolean"),
        ("String", "string"),
        ("varchar", "string"),
        ("any", None),
        ("", None),
    ],
)
def test_type_names(name: str, expected: str | None) -> None:
    assert json_type(name) == expected


def test_nested_and_union_schemas_are_mapped() -> None:
    schema = {
        "anyOf": [{"type": "int"}, {"type": ["str", "none"]}],
        "items": {"type": "float"},
        "optional": True,
    }
    assert to_json_schema(schema) == {
        "anyOf": [{"type": "integer"}, {"type": ["string", "null"]}],
        "items": {"type": "number"},
    }


def test_tools_with_loose_types_parse_typed_and_validate() -> None:
    tool = {"name": "scale", "parameters": {"type": "dict", "properties": {"k": {"type": "float"}}}}
    (call,) = parse(
        "<tool_call>\n<function=scale>\n<parameter=k>2.5</parameter>\n</function>\n</tool_call>", [tool]
    ).calls
    assert call.ok and call.arguments == {"k": 2.5}
