"""Typing of argument values by the tool's JSON Schema.

XML carries no types, so `from_text` reads a raw parameter value the way the schema says (SGLang's
MiMo rules, minus the silent fallbacks: a value that does not read as its type stays a string and the
validator reports it). `coerce` repairs typed values from JSON formats that have the wrong type.
"""

from __future__ import annotations

import ast
import json
import math
from typing import Any

from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from mimo_agent.toolcalls.jsontext import loads, repair

_NUMERIC = ("integer", "number")


def same_value(a: Any, b: Any) -> bool:
    """Equality that tells 1 from 1.0 from True (Python's == does not)."""
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(b, sort_keys=True, default=repr)


def is_valid(value: Any, schema: dict[str, Any] | None) -> bool:
    """Whether `value` fits `schema`; a sub-schema whose recursive `$ref` points outside it counts as a
    fit here, and the whole-call validator judges it against the full schema."""
    if not schema:
        return True
    try:
        return Draft202012Validator(schema).is_valid(value)
    except Unresolvable:
        return True


def branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a union schema (anyOf/oneOf or a list of types), or the schema itself."""
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return [{**base, **b} for b in schema[key] if isinstance(b, dict)]
    if isinstance(schema.get("type"), list):
        return [{**schema, "type": t} for t in schema["type"]]
    return [schema]


def _json(raw: str) -> tuple[bool, Any]:
    try:
        return True, loads(raw)
    except (ValueError, RecursionError):
        return False, None


def _literal(raw: str) -> tuple[bool, Any]:
    """JSON, else a Python literal (single quotes, True/None): models trained on Python often write those."""
    ok, value = _json(raw)
    if ok:
        return ok, value
    try:
        return True, ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _number(raw: str, kind: str) -> Any:
    text = raw.strip()
    ok, value = _json(text)
    if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if kind == "integer" and isinstance(value, float) and value.is_integer() else value
    try:
        number = float(text)
    except ValueError:
        return raw
    if not math.isfinite(number):
        return raw
    return int(number) if kind == "integer" and number.is_integer() else number


def _scalar(raw: str, kind: str) -> Any:
    text = raw.strip()
    if kind in _NUMERIC:
        return _number(raw, kind)
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), raw)
    if kind == "null":
        return None if text.lower() in ("null", "none") else raw
    if kind in ("array", "object"):
        ok, value = _literal(text)
        wanted = list if kind == "array" else dict
        if ok and isinstance(value, tuple) and kind == "array":
            value = list(value)
        return value if ok and isinstance(value, wanted) else raw
    return raw


def _loose(raw: str) -> Any:
    """An untyped value: JSON when it reads as JSON, else the text itself."""
    ok, value = _json(raw.strip())
    return value if ok and raw.strip() else raw


def from_text(raw: str, schema: dict[str, Any] | None) -> Any:
    """Read a raw XML parameter value as the schema's type; return `raw` unchanged when it does not read.

    `null` is None for every type but a plain string (SGLang makes it None there too, which would turn a
    legal string into a different call).
    """
    if raw.strip().lower() == "null" and (schema or {}).get("type") != "string":
        return None
    if not schema:
        return _loose(raw)
    alts = branches(schema)
    if len(alts) > 1:
        # Non-string branches first: "5" for integer|string is the integer, as the renderer agrees.
        typed = [b for b in alts if b.get("type") != "string"]
        for alt in typed:
            value = from_text(raw, alt)
            if not (isinstance(value, str) and value is raw) and is_valid(value, alt):
                return value
        if any(b.get("type") == "string" for b in alts):
            ok, value = _json(raw.strip())
            return value if ok and isinstance(value, str) and raw.strip().startswith('"') else raw
        return raw
    kind = schema.get("type")
    if kind == "string":
        return raw
    if isinstance(kind, str):
        return _scalar(raw, kind)
    if "enum" in schema:
        if raw in schema["enum"]:
            return raw
        ok, value = _json(raw.strip())
        return value if ok and value in schema["enum"] else raw
    if "properties" in schema:
        return _scalar(raw, "object")
    if "items" in schema:
        return _scalar(raw, "array")
    return _loose(raw)


def _enum_fix(value: Any, schema: dict[str, Any], repairs: list[str]) -> Any:
    enum = schema.get("enum")
    if not isinstance(enum, list) or value in enum or not isinstance(value, str):
        return value
    folded = [e for e in enum if isinstance(e, str) and e.strip().lower() == value.strip().lower()]
    if len(folded) == 1:
        repairs.append("enum_case")
        return folded[0]
    return value


def _from_broken_json(value: str, kind: str) -> Any:
    fixed = repair(value)
    wanted = list if kind == "array" else dict
    return fixed if isinstance(fixed, wanted) and fixed else value


def coerce(value: Any, schema: dict[str, Any] | None, repairs: list[str]) -> Any:
    """Return `value` with wrong-typed parts fixed where the schema makes the intent unambiguous.

    Each fix appends its rule name to `repairs`. A value that cannot be fixed is returned as is and
    left for the validator to report.
    """
    if not schema or is_valid(value, schema):
        return value
    alts = branches(schema)
    if len(alts) > 1:
        for alt in alts:
            trial: list[str] = []
            fixed = coerce(value, alt, trial)
            if trial and is_valid(fixed, alt):
                repairs.extend(trial)
                return fixed
        return value
    kind = schema.get("type")
    if isinstance(value, str) and kind not in (None, "string"):
        fixed = from_text(value, schema)
        if fixed is value and kind in ("array", "object") and value.strip().startswith(("[", "{")):
            fixed = _from_broken_json(value, kind)
            if fixed is not value:
                repairs.append("broken_json")
        if fixed is not value:
            repairs.append("wrong_type_value")
            return coerce(fixed, schema, repairs)
        return value
    if kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        repairs.append("wrong_type_value")
        return _enum_fix(json.dumps(value), schema, repairs)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        return {
            k: coerce(v, props.get(k, extra if isinstance(extra, dict) else None), repairs)
            for k, v in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [coerce(v, schema["items"], repairs) for v in value]
    return _enum_fix(value, schema, repairs)
