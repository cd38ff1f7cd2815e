"""The tools a parse is checked against, and name resolution for mangled tool and parameter names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.dialect import to_json_schema
from mimo_agent.toolcalls.refs import DanglingRef, inline_refs


class ToolSpecError(ValueError):
    """A tool definition given to the parser is not a ToolDef or an OpenAI tool object, or its schema is
    broken (a `$ref` pointing nowhere)."""


@dataclass(frozen=True)
class Resolved:
    """A name looked up among candidates: the canonical name (None if unknown or ambiguous) and the rule used."""

    name: str | None
    rule: str | None = None


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (names are short, so the quadratic table is cheap)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def resolve_name(raw: str, candidates: Iterable[str], rule: str) -> Resolved:
    """Map `raw` to one of `candidates`: exact, then case/separator-insensitive, then a unique nearest name.

    Anything that matches two candidates equally well stays unresolved: a wrong guess would run a
    different call than the model meant.
    """
    names = tuple(candidates)
    if raw in names:
        return Resolved(raw)
    key = _key(raw)
    same = [n for n in names if _key(n) == key]
    if len(same) == 1:
        return Resolved(same[0], rule)
    if len(same) > 1 or len(key) < 3:
        return Resolved(None)
    scored = sorted((_distance(key, _key(n)), n) for n in names)
    limit = max(1, len(key) // 4)
    if scored and scored[0][0] <= limit:
        if len(scored) > 1 and scored[1][0] == scored[0][0]:
            return Resolved(None)  # a tie: no later, weaker rule may break it
        return Resolved(scored[0][1], rule)
    contains = [n for n in names if key in _key(n) or (_key(n) and _key(n) in key)]
    if len(contains) == 1 and len(key) >= 4:
        return Resolved(contains[0], rule)
    return Resolved(None)


def _schema(name: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return to_json_schema(inline_refs(params))
    except DanglingRef as exc:
        raise ToolSpecError(f"tool {name!r}: {exc}") from exc


def _tool_entry(tool: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(tool, ToolDef):
        return tool.name, _schema(tool.name, tool.parameters)
    if isinstance(tool, Mapping):
        fn = tool.get("function", tool)
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            params = fn.get("parameters") or {"type": "object", "properties": {}}
            if not isinstance(params, Mapping):
                raise ToolSpecError(f"tool {fn['name']!r}: 'parameters' must be a JSON Schema object")
            return fn["name"], _schema(fn["name"], dict(params))
    raise ToolSpecError(f"expected a ToolDef or an OpenAI tool object with function.name, got {tool!r:.80}")


class ToolSet:
    """Tool name → parameter schema. `None` tools means calls are parsed without a schema (any name, untyped).

    Schemas are read through `dialect.to_json_schema`, so `float`, `dict` or `any` types from loosely
    written tools validate (and compile to grammars) as their JSON Schema equivalents.
    """

    def __init__(self, tools: Iterable[Any] | None = None):
        self.schemaless = tools is None
        self.schemas: dict[str, dict[str, Any]] = dict(_tool_entry(t) for t in (tools or []))

    @classmethod
    def of(cls, tools: ToolSet | Iterable[Any] | None) -> ToolSet:
        return tools if isinstance(tools, ToolSet) else cls(tools)

    def schema(self, name: str) -> dict[str, Any] | None:
        return self.schemas.get(name)

    def resolve_tool(self, raw: str) -> Resolved:
        """Canonical tool name for what the model wrote (`functions.` prefixes and `:0` suffixes included)."""
        name = raw.strip()
        if self.schemaless:
            stripped = re.sub(r"^functions\.|:\d+$", "", name)
            return Resolved(stripped, "functions_prefix" if stripped != name else None)
        if name in self.schemas:
            return Resolved(name)
        stripped = re.sub(r":\d+$", "", name)
        if stripped.startswith("functions.") and stripped[len("functions.") :] in self.schemas:
            return Resolved(stripped[len("functions.") :], "functions_prefix")
        if stripped in self.schemas:
            return Resolved(stripped, "functions_prefix")
        found = resolve_name(stripped, self.schemas, "fuzzy_tool_name")
        if found.name is None and stripped.startswith("functions."):
            found = resolve_name(stripped[len("functions.") :], self.schemas, "fuzzy_tool_name")
        return found
