"""From a call as written (name and raw or JSON arguments) to a typed, validated ToolCall."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mimo_agent.toolcalls.calls import ArgError, ToolCall
from mimo_agent.toolcalls.convert import coerce, from_text
from mimo_agent.toolcalls.jsontext import repeated_keys
from mimo_agent.toolcalls.toolset import ToolSet, resolve_name
from mimo_agent.toolcalls.validate import validate_arguments


@dataclass
class RawCall:
    """A call as the model wrote it, before names are resolved and values typed.

    `typed` is False for XML (values are raw text) and True for JSON-like sources. `problems` holds
    structural faults found while reading it (e.g. a truncated value), which make the call invalid.
    """

    name: str
    args: dict[str, Any]
    typed: bool
    source: str
    raw: str
    repairs: list[str] = field(default_factory=list)
    problems: list[ArgError] = field(default_factory=list)


def _format_repair(source: str, expected: str) -> str | None:
    if expected == "xml" and source == "json":
        return "json_instead_of_xml"
    if expected == "json" and source == "xml":
        return "xml_instead_of_json"
    return None


def _rename_params(
    args: dict[str, Any], schema: dict[str, Any] | None, repairs: list[str], errors: list[ArgError]
) -> dict[str, Any]:
    props = (schema or {}).get("properties")
    if not isinstance(props, dict):
        return args
    out: dict[str, Any] = {}
    unknown = [k for k in args if k not in props]
    for key, value in args.items():
        target = key
        if key in unknown:
            free = [p for p in props if p not in args]
            found = resolve_name(key, free, "fuzzy_parameter_name")
            if found.name is not None:
                target = found.name
                repairs.append("fuzzy_parameter_name")
        if target in out:
            errors.append(ArgError(target, "each parameter once", key, f"parameter {target!r} given twice"))
            continue
        out[target] = value
    return out


def build_call(raw: RawCall, tools: ToolSet, expected_format: str = "auto", call_id: str = "") -> ToolCall:
    """Resolve the tool and parameter names, type and coerce the values, validate; never raises."""
    repairs = list(raw.repairs)
    if rule := _format_repair(raw.source, expected_format):
        repairs.append(rule)
    errors = list(raw.problems) + repeated_keys(raw.args)
    found = tools.resolve_tool(raw.name)
    if found.name is None:
        choices = sorted(tools.schemas)
        errors.append(ArgError("", f"one of {choices}", raw.name, f"unknown tool {raw.name!r}"))
        args = raw.args if raw.typed else {k: from_text(v, None) for k, v in raw.args.items()}
        return ToolCall(raw.name, args, call_id, repairs, raw.raw, errors)
    if found.rule:
        repairs.append(found.rule)
    schema = tools.schema(found.name)
    args = _rename_params(raw.args, schema, repairs, errors)
    props = (schema or {}).get("properties") or {}
    if not raw.typed:
        args = {k: from_text(v, props.get(k) if schema is not None else None) for k, v in args.items()}
        errors += repeated_keys(args)  # inside XML values written as JSON objects
    args = {k: coerce(v, props.get(k), repairs) for k, v in args.items()}
    errors += validate_arguments(args, schema)
    return ToolCall(found.name, args, call_id, repairs, raw.raw, errors)
