"""Checking a JSONL corpus of model outputs: the engine of `mimo-agent toolcalls check`.

No input line can stop a run: a line that is not a case is reported with its number (in the summary,
and as a result line with id null, so results stay aligned with the input), and a case the parser
chokes on is recorded as an internal error on that case.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mimo_agent.toolcalls.calls import ParseResult
from mimo_agent.toolcalls.parser import FormatName, parse
from mimo_agent.toolcalls.toolset import ToolSet, ToolSpecError


@dataclass
class CorpusSummary:
    cases: int = 0
    parsed: int = 0
    valid: int = 0
    expected_cases: int = 0
    exact_match: int = 0
    repaired: int = 0
    repairs: Counter[str] = field(default_factory=Counter)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    internal_errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "parsed": self.parsed,
            "valid": self.valid,
            "expected_cases": self.expected_cases,
            "exact_match": self.exact_match,
            "repaired": self.repaired,
            "repairs": dict(sorted(self.repairs.items())),
            "malformed_lines": self.malformed,
            "internal_errors": self.internal_errors,
        }


def _canonical(calls: Iterable[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps({"name": c.get("name"), "arguments": c.get("arguments")}, sort_keys=True) for c in calls
    )


def _case(line: str) -> tuple[Any, str, ToolSet, list[dict[str, Any]] | None]:
    """(id, raw, tools, expected) from one line; ValueError names the field that is wrong."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("line is not a JSON object")
    raw = obj.get("raw")
    if not isinstance(raw, str):
        raise ValueError("field 'raw' must be a string")
    try:
        tools = ToolSet(obj.get("tools"))
    except (ToolSpecError, TypeError) as exc:
        raise ValueError(f"field 'tools': {exc}") from exc
    expected = obj.get("expected")
    if expected is not None and not (
        isinstance(expected, list) and all(isinstance(e, dict) for e in expected)
    ):
        raise ValueError("field 'expected' must be a list of {name, arguments} objects or null")
    return obj.get("id"), raw, tools, expected


def _result_line(case_id: Any, result: ParseResult) -> dict[str, Any]:
    errors = [{"call": i, **e.to_dict()} for i, c in enumerate(result.calls) for e in c.errors]
    return {
        "id": case_id,
        "calls": [c.to_dict() for c in result.calls],
        "text": result.text,
        "repairs": sorted({r for c in result.calls for r in c.repairs}),
        "errors": errors,
    }


def check_corpus(lines: Iterable[str], fmt: FormatName = "auto") -> Iterator[dict[str, Any] | CorpusSummary]:
    """Yield one result dict per non-blank line (case or malformed line), then the summary."""
    summary = CorpusSummary()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case_id, raw, tools, expected = _case(line)
        except (ValueError, RecursionError) as exc:
            summary.malformed.append({"line": number, "error": str(exc)[:200]})
            message = f"line {number}: not a case: {str(exc)[:200]}"
            yield {"id": None, "calls": [], "text": "", "repairs": [], "errors": [{"message": message}]}
            continue
        summary.cases += 1
        try:
            result = parse(raw, tools, fmt)
        except Exception as exc:  # noqa: BLE001 - a parser bug must cost one case, not the run
            summary.internal_errors += 1
            yield {"id": case_id, "calls": [], "text": raw, "repairs": [], "errors": [{"message": repr(exc)}]}
            continue
        summary.parsed += bool(result.calls)
        summary.valid += bool(result.calls) and not result.failed_calls
        rules = {r for c in result.calls for r in c.repairs}
        summary.repaired += bool(rules)
        summary.repairs.update(rules)
        if expected is not None:
            summary.expected_cases += 1
            good = not result.failed_calls
            summary.exact_match += good and _canonical(c.to_dict() for c in result.calls) == _canonical(
                expected
            )
        yield _result_line(case_id, result)
    yield summary
