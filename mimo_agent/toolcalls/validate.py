"""Validation of typed arguments against a tool's schema; every problem becomes an ArgError."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, UnknownType, ValidationError

from mimo_agent.toolcalls.calls import ArgError


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(err: ValidationError) -> str:
    if err.validator == "type":
        return f"type {_short(err.validator_value)}"
    if err.validator == "enum":
        return f"one of {_short(err.validator_value)}"
    if err.validator == "required":
        return "required parameter"
    return f"{err.validator} {_short(err.validator_value)}"


def _error(err: ValidationError) -> ArgError:
    path = "/".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        named = re.match(r"^(['\"])(.*)\1 is a required property$", err.message)
        missing = (
            named.group(2) if named else next((r for r in err.validator_value if r not in err.instance), "")
        )
        path = f"{path}/{missing}" if path else missing
        return ArgError(path, "required parameter", "missing", f"missing required parameter {missing!r}")
    return ArgError(path, _expected(err), _short(err.instance), err.message)


def validate_arguments(arguments: dict[str, Any], schema: dict[str, Any] | None) -> list[ArgError]:
    """All the ways `arguments` breaks `schema`; unknown parameters count even when the schema allows extras.

    Extras are refused because they are almost always a misspelt parameter the tool would silently ignore.
    """
    if schema is None:
        return []
    props = schema.get("properties")
    errors = [
        ArgError(name, f"one of {_short(sorted(props))}", "unknown parameter", f"unknown parameter {name!r}")
        for name in arguments
        if isinstance(props, dict) and name not in props
    ]
    checked = {k: v for k, v in arguments.items() if not isinstance(props, dict) or k in props}
    try:
        found = sorted(Draft202012Validator(schema).iter_errors(checked), key=str)
    except (SchemaError, UnknownType) as exc:
        reason = str(exc).splitlines()[0]
        return errors + [ArgError("", "a valid JSON Schema for the tool", "an invalid schema", reason)]
    return errors + [_error(e) for e in found]
