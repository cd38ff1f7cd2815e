"""Rendering calls in the formats models write and servers return: MiMo/Qwen3-Coder XML, Hermes JSON, OpenAI.

The XML renderer writes each value so that `convert.from_text` reads back the same typed value: strings
raw unless raw text would read as another type of the schema (then JSON), everything else JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from mimo_agent.toolcalls.blocks import read_arguments, strip_value_newlines
from mimo_agent.toolcalls.build import RawCall, build_call
from mimo_agent.toolcalls.calls import ToolCall
from mimo_agent.toolcalls.convert import from_text, same_value
from mimo_agent.toolcalls.toolset import ToolSet

Format = Literal["xml", "xml_compact", "json"]


def render_value(value: Any, schema: dict[str, Any] | None) -> str:
    """The text of one XML parameter value that parses back to exactly `value` under `schema`."""
    if isinstance(value, str):
        text = "\n" + value + "\n" if value.startswith("\n") and value.endswith("\n") else value
        if same_value(from_text(strip_value_newlines(text), schema), value):
            return text
    return json.dumps(value, ensure_ascii=False)


def render_xml(
    name: str, arguments: dict[str, Any], schema: dict[str, Any] | None = None, compact: bool = False
) -> str:
    """`<tool_call>\\n<function=NAME>\\n<parameter=P>V</parameter>\\n</function>\\n</tool_call>` (compact: no newlines)."""
    nl = "" if compact else "\n"
    props = (schema or {}).get("properties") or {}
    params = "".join(
        f"<parameter={k}>{render_value(v, props.get(k) if schema is not None else None)}</parameter>{nl}"
        for k, v in arguments.items()
    )
    return f"<tool_call>{nl}<function={name}>{nl}{params}</function>{nl}</tool_call>"


def render_hermes(name: str, arguments: dict[str, Any]) -> str:
    """`<tool_call>{"name": …, "arguments": {…}}</tool_call>`, as Hermes-style templates write it."""
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def render_call(call: ToolCall, fmt: Format = "xml", tools: ToolSet | Iterable[Any] | None = None) -> str:
    if fmt == "json":
        return render_hermes(call.name, call.arguments)
    schema = ToolSet.of(tools).schema(call.name)
    return render_xml(call.name, call.arguments, schema, compact=fmt == "xml_compact")


def to_openai(call: ToolCall) -> dict[str, Any]:
    """The entry of an OpenAI `tool_calls` list (arguments as a JSON string, as the API sends them)."""
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
    }


def from_openai(entry: Any, tools: ToolSet | Iterable[Any] | None = None) -> ToolCall:
    """Read one `tool_calls` entry from a server: arguments may be a JSON string, a dict, or broken."""
    fn = entry.get("function", entry) if isinstance(entry, dict) else {}
    name = fn.get("name") if isinstance(fn.get("name"), str) else ""
    raw = json.dumps(entry, ensure_ascii=False, default=repr)
    args, repairs, problems = read_arguments(fn.get("arguments", fn.get("parameters", {})), raw, encoded=True)
    call = RawCall(name, args, True, "openai", raw, repairs, problems)
    return build_call(
        call, ToolSet.of(tools), "auto", str(entry.get("id", "")) if isinstance(entry, dict) else ""
    )
