"""BFCL (Berkeley Function Calling Leaderboard) data from the installed `bfcl-eval` package, as JSON Schema.

Only the package's data files are read; its Python modules pull in a full benchmark stack. BFCL writes
schemas in a Python/Java/JS dialect (`dict`, `float`, `tuple`, `any`, `String`, …) that
`dialect.to_json_schema` maps to JSON Schema. Ground truths list acceptable values per parameter; the first one is taken.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from mimo_agent.toolcalls.dialect import to_json_schema

CATEGORIES = (
    "simple_python",
    "simple_java",
    "simple_javascript",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)
_ALIASES = {"simple": ("simple_python", "simple_java", "simple_javascript"), "live": CATEGORIES[6:]}


class BfclError(RuntimeError):
    """The BFCL data files are missing or a line is not what the loader expects."""


class BfclCase(NamedTuple):
    tools: list[dict[str, Any]]
    calls: list[dict[str, Any]]


def data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise BfclError("package bfcl-eval is not installed (pip install --no-deps bfcl-eval)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _tool(function: dict[str, Any]) -> dict[str, Any]:
    params = to_json_schema(function.get("parameters") or {})
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    body = {"name": function["name"], "description": function.get("description", ""), "parameters": params}
    return {"type": "function", "function": body}


def _expand(categories: Iterable[str]) -> list[str]:
    return [c for cat in categories for c in _ALIASES.get(cat, (cat,))]


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        raise BfclError(f"{path}: BFCL data file not found")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise BfclError(f"{path}:{n}: not JSON ({exc})") from exc


def load_bfcl_functions(categories: Iterable[str] = CATEGORIES) -> list[dict[str, Any]]:
    """Every distinct function of the categories' question files, as OpenAI tool objects."""
    seen: dict[str, dict[str, Any]] = {}
    for cat in _expand(categories):
        for question in _lines(data_dir() / f"BFCL_v4_{cat}.json"):
            for fn in question["function"]:
                tool = _tool(fn)
                seen.setdefault(json.dumps(tool, sort_keys=True), tool)
    return list(seen.values())


def _pick(options: Any) -> tuple[bool, Any]:
    """The first acceptable value of a parameter; (False, None) when only "omit it" ("") is offered."""
    if not isinstance(options, list):
        return True, _unwrap(options)
    chosen = [o for o in options if o != ""]
    return (True, _unwrap(chosen[0])) if chosen else (False, None)


def _unwrap(value: Any) -> Any:
    """Nested dicts in BFCL answers hold option lists per key too."""
    if isinstance(value, dict):
        picked = {k: _pick(v) for k, v in value.items()}
        return {k: v for k, (keep, v) in picked.items() if keep}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _ground_truth(entry: dict[str, Any]) -> dict[str, Any]:
    ((name, params),) = entry.items()
    picked = {k: _pick(v) for k, v in params.items()}
    return {"name": name, "arguments": {k: v for k, (keep, v) in picked.items() if keep}}


def load_bfcl_cases(categories: Iterable[str] = CATEGORIES) -> list[BfclCase]:
    """(tools, ground-truth calls) for every question that has a possible answer."""
    cases = []
    for cat in _expand(categories):
        answers = {
            a["id"]: a["ground_truth"] for a in _lines(data_dir() / "possible_answer" / f"BFCL_v4_{cat}.json")
        }
        for question in _lines(data_dir() / f"BFCL_v4_{cat}.json"):
            truth = answers.get(question["id"])
            if truth:
                cases.append(
                    BfclCase([_tool(f) for f in question["function"]], [_ground_truth(t) for t in truth])
                )
    return cases
