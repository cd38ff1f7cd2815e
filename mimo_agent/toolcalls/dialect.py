"""Loose schema dialects (Python, Java and JS type names as BFCL and many tool authors write them) → JSON Schema.

Type names follow SGLang's MiMo rules: `int*`/`long*`/`short*`/`uint*` are integers, `num*`/`float*`/
`double` numbers, `dict*`/`map`/`hashmap` objects, `list*`/`tuple` arrays, `bool`/`binary` booleans;
`any`, an empty type and unknown names leave the value unconstrained.
"""

from __future__ import annotations

from typing import Any

_EXACT = {
    "string": "string", "str": "string", "text": "string", "varchar": "string", "char": "string",
    "object": "object", "map": "object", "hashmap": "object",
    "array": "array", "tuple": "array", "arraylist": "array",
    "boolean": "boolean", "bool": "boolean", "binary": "boolean",
    "null": "null", "none": "null",
}  # fmt: skip
_PREFIXES = (
    (("int", "uint", "long", "short", "unsigned"), "integer"),
    (("num", "float", "double"), "number"),
    (("dict",), "object"),
    (("list",), "array"),
)
_SUBSCHEMA_KEYS = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_DROP = {"optional"}


def json_type(name: str) -> str | None:
    """The JSON Schema type for a loose type name, or None when it says nothing checkable ("any")."""
    key = name.strip().lower()
    if key in _EXACT:
        return _EXACT[key]
    return next((t for prefixes, t in _PREFIXES if key.startswith(prefixes)), None)


def _type(value: Any) -> Any:
    if isinstance(value, list):
        mapped = [json_type(v) for v in value if isinstance(v, str)]
        return None if None in mapped or not mapped else list(dict.fromkeys(mapped))
    return json_type(value) if isinstance(value, str) else None


def to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with loose type names mapped, recursively; `required` keeps only declared properties."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            continue
        if key == "type":
            mapped = _type(value)
            if mapped:
                out["type"] = mapped
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {k: to_json_schema(v) for k, v in value.items() if isinstance(v, dict)}
        elif key in _SUBSCHEMA_KEYS and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [to_json_schema(v) for v in value if isinstance(v, dict)]
        else:
            out[key] = value
    if isinstance(out.get("required"), list) and isinstance(out.get("properties"), dict):
        out["required"] = [r for r in out["required"] if r in out["properties"]]
    if isinstance(out.get("enum"), list):
        _fit_enum(out)
    return out


def _fit_enum(schema: dict[str, Any]) -> None:
    """Make an enum agree with its type, as loose schemas often don't: numbers written as strings
    (`"1"` for an integer) become numbers, and an array's enum describes its items."""
    kind, enum = schema.get("type"), schema["enum"]
    if kind in ("integer", "number") and all(isinstance(v, str) for v in enum):
        try:
            schema["enum"] = [int(v) if kind == "integer" else float(v) for v in enum]
        except ValueError:
            return
    elif kind == "array" and not any(isinstance(v, list) for v in enum):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        schema["items"] = {**items, "enum": schema.pop("enum")}
