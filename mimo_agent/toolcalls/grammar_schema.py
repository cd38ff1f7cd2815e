"""Tool parameter schemas rewritten so that xgrammar compiles them to exactly the values they accept.

xgrammar forbids undeclared keys, reads only 2020-12 tuple syntax, cannot express regex lookarounds and
lets `enum` override `type`; each rewrite below closes one of those gaps. The validator keeps checking
against the original schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LOOKAROUND = re.compile(r"\(\?<?[=!]")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("$defs", "definitions", "patternProperties")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


class GrammarError(ValueError):
    """Tools or options that cannot become a grammar; the message names the tool, field or value."""


def grammar_schema(schema: Any, where: str) -> dict[str, Any]:
    """A copy of a tool's parameters schema for xgrammar; `where` names the tool in errors.

    Missing parameters mean no arguments. Draft-4 tuple `items` lists become `prefixItems`. Required
    names absent from `properties` get an unconstrained entry (xgrammar would allow no such key). Regex
    lookarounds are dropped. `enum` values of the wrong `type` are dropped; an optional parameter left
    with none is removed (no value of it could validate), a required one is an error.
    """
    if schema is None:
        return {"type": "object", "properties": {}}
    if not isinstance(schema, Mapping):
        raise GrammarError(f"{where}: parameters must be a JSON Schema object, got {schema!r:.80}")
    top = normalise(schema, where)
    top.setdefault("type", "object")
    if top["type"] != "object":
        raise GrammarError(f"{where}: parameters must have type 'object', got {top['type']!r}")
    return top


def normalise(schema: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, Mapping):
            out[key] = _properties(value, schema.get("required", []), where)
        elif key in _SUBSCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {k: _sub(v, f"{where} {key}/{k}") for k, v in value.items()}
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [_sub(v, f"{where} {key}") for v in value]
        elif key == "items" and isinstance(value, list):
            out["prefixItems"] = [_sub(v, f"{where} items") for v in value]
        elif key in _SUBSCHEMAS and isinstance(value, Mapping):
            out[key] = normalise(value, f"{where} {key}")
        elif key == "pattern" and isinstance(value, str) and _LOOKAROUND.search(value):
            continue
        elif key == "enum" and isinstance(value, list) and _known_types(schema.get("type")):
            out[key] = [v for v in value if _has_type(v, schema["type"])]
        else:
            out[key] = value
    if isinstance(schema.get("items"), list) and "additionalItems" in schema:
        out["items"] = out.pop("additionalItems")
    props = out.get("properties")
    if isinstance(props, dict) and out.get("additionalProperties", True) is not False:
        missing = [r for r in out.get("required", []) if isinstance(r, str) and r not in props]
        out["properties"] = {**props, **{name: {} for name in missing}}
    return out


def _sub(value: Any, where: str) -> Any:
    return normalise(value, where) if isinstance(value, Mapping) else value


def _properties(props: Mapping[str, Any], required: Any, where: str) -> dict[str, Any]:
    out = {}
    for name, sub in props.items():
        normal = _sub(sub, f"{where} parameter {name!r}")
        if isinstance(sub, Mapping) and sub.get("enum") and normal.get("enum") == []:
            if isinstance(required, list) and name in required:
                raise GrammarError(
                    f"{where}: required parameter {name!r} has no valid value: none of its enum "
                    f"{sub['enum']!r:.80} is of type {sub.get('type')!r}"
                )
            continue
        out[name] = normal
    return out


def _known_types(types: Any) -> bool:
    names = types if isinstance(types, list) else [types]
    return bool(names) and all(isinstance(t, str) and t in _JSON_TYPES for t in names)


def _has_type(value: Any, types: str | list[str]) -> bool:
    for name in types if isinstance(types, list) else [types]:
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if name == "integer" and isinstance(value, float):
            if value.is_integer():
                return True
            continue
        if isinstance(value, _JSON_TYPES[name]):
            return True
    return False
