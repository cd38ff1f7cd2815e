"""Reading JSON a model wrote without guessing: repeated keys are noticed, and a repair or a completion
that would have to invent the end of a value is refused.

`json` silently keeps the last value of a repeated key, and json-repair closes an unterminated string
where it stops (`"Par` becomes "Par"); either way the call would run with a value the model may not
have meant. XML reports a parameter given twice, so JSON must too.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair

from mimo_agent.toolcalls.calls import ArgError

# What a JSON text can end with when its last value is complete: a string, a closed container, a literal.
_VALUE_END = re.compile(r'(?:"|[}\]]|(?<![\w.+-])(?:true|false|null))\s*\Z')


class JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers which keys its source gave more than once (the last value is kept)."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject(pairs)
    if len(obj) < len(pairs):
        keys = [k for k, _ in pairs]
        obj.repeated = tuple(dict.fromkeys(k for i, k in enumerate(keys) if k in keys[:i]))
    return obj


DECODER = json.JSONDecoder(object_pairs_hook=_object)


def loads(text: str) -> Any:
    """`json.loads` that marks repeated keys (see `repeated_keys`)."""
    return DECODER.decode(text)


def repeated_keys(value: Any, path: str = "") -> list[ArgError]:
    """One error per key that a decoded object (at any depth) was given twice."""
    errors: list[ArgError] = []
    if isinstance(value, JsonObject):
        for key in value.repeated:
            where = f"{path}/{key}" if path else key
            what = f"key {where!r}" if path else f"parameter {key!r}"  # top level: as XML says it
            errors.append(ArgError(where, "each key once", key, f"{what} given twice"))
    if isinstance(value, dict):
        for key, item in value.items():
            errors += repeated_keys(item, f"{path}/{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            errors += repeated_keys(item, f"{path}/{i}" if path else str(i))
    return errors


def open_brackets(text: str) -> tuple[list[str], bool]:
    """(closers of the brackets still open at the end of `text`, innermost last; whether it ends in a string)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    return stack, in_string


def close_json(text: str, depth: int = 2) -> str | None:
    """`text` (a call object, cut off) completed by closing brackets, or None when that would make up a value.

    Only a cut between two parameters is closed: right after a complete value, no deeper than the
    arguments object (`depth` 2 inside a call object, 1 for bare arguments). A number at the end may itself be cut (`3` of `30`), a string may be open, a
    `{`, `[`, `:` or `,` may await its value, and an open array or nested object may have had more items.
    """
    stack, in_string = open_brackets(text)
    if in_string or not stack or len(stack) > depth or "]" in stack or not _VALUE_END.search(text):
        return None
    return text + "".join(reversed(stack))


def repair(text: str) -> Any:
    """json-repair's reading of broken JSON, or None when it fails or would close an unterminated string."""
    if open_brackets(text)[1]:
        return None
    try:
        return json_repair.loads(text)
    except (ValueError, RecursionError):
        return None
