"""Turning a failed call into a short observation the model can act on.

The retry budget is the agent's (settings `limits.max_consecutive_invalid`), not this layer's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from mimo_agent.toolcalls.calls import ToolCall
from mimo_agent.toolcalls.formats import render_hermes, render_xml
from mimo_agent.toolcalls.toolset import ToolSet
from mimo_agent.toolcalls.validate import validate_arguments

_PLACEHOLDER = {"string": "text", "integer": 1, "number": 1.5, "boolean": True, "null": None}


def example_value(schema: dict[str, Any]) -> Any:
    """A value that satisfies `schema` in the common cases (enum, default, const, bounds, required keys)."""
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_value(schema[key][0])
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        return _PLACEHOLDER[kind] if low is None else low + (1 if "exclusiveMinimum" in schema else 0)
    if kind == "array":
        count = schema.get("minItems", 1)
        return [example_value(schema.get("items") or {"type": "string"}) for _ in range(count)]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: example_value(props.get(k, {})) for k in schema.get("required", []) if k in props}
    return _PLACEHOLDER.get(kind, "text") if isinstance(kind, str) else "text"


def example_call(name: str, schema: dict[str, Any], fmt: Literal["xml", "json"] = "xml") -> str:
    args = example_value(schema)
    args = args if isinstance(args, dict) else {}
    return render_hermes(name, args) if fmt == "json" else render_xml(name, args, schema)


def _problems(call: ToolCall) -> list[str]:
    lines = []
    for err in call.errors:
        where = f"`{err.path}`: " if err.path else ""
        lines.append(f"- {where}{err.message} (expected {err.expected}, got {err.got})")
    return lines


def feedback_for(call: ToolCall, tools: ToolSet | Iterable[Any], fmt: Literal["xml", "json"] = "xml") -> str:
    """The observation for a failed call: what was wrong, the tool's schema, one valid call to copy."""
    tool_set = ToolSet.of(tools)
    title = f"Your call to `{call.name}` was not run." if call.name else "Your tool call could not be read."
    parts = [title, *_problems(call)]
    schema = tool_set.schema(call.name)
    if schema is None:
        parts.append(f"Available tools: {', '.join(sorted(tool_set.schemas)) or 'none'}.")
        if len(tool_set.schemas) == 1:
            schema = next(iter(tool_set.schemas.values()))
            call = ToolCall(next(iter(tool_set.schemas)), {})
    if schema is not None:
        parts.append(f"Parameters of `{call.name}` (JSON Schema): {json.dumps(schema, ensure_ascii=False)}")
        example = example_call(call.name, schema, fmt)
        args = example_value(schema)
        if isinstance(args, dict) and not validate_arguments(args, schema):
            parts.append(f"A valid call looks like:\n{example}")
    parts.append("Write the corrected call.")
    return "\n".join(parts)
