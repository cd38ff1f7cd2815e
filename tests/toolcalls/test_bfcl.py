"""BFCL data: schema dialect normalisation, round trip of every ground truth, corruption-repair floor."""

from __future__ import annotations

import pytest

from mimo_agent.toolcalls.bfcl import CATEGORIES, load_bfcl_cases, load_bfcl_functions
from mimo_agent.toolcalls.convert import same_value
from mimo_agent.toolcalls.corruptions import SHAPES, run_suite
from mimo_agent.toolcalls.dialect import to_json_schema
from mimo_agent.toolcalls.formats import render_hermes, render_xml
from mimo_agent.toolcalls.parser import parse
from mimo_agent.toolcalls.toolset import ToolSet
from mimo_agent.toolcalls.validate import validate_arguments

REPAIR_FLOOR = 0.98


@pytest.fixture(scope="module")
def cases() -> list:
    return load_bfcl_cases()


def test_dialect_becomes_json_schema() -> None:
    bfcl = {
        "type": "dict",
        "properties": {
            "x": {"type": "float", "optional": True},
            "t": {"type": "tuple", "items": {"type": "String"}},
            "m": {"type": "HashMap"},
            "a": {"type": "any", "description": "anything"},
            "n": {"type": "long"},
        },
        "required": ["x", "ghost"],
    }
    assert to_json_schema(bfcl) == {
        "type": "object",
        "properties": {
            "x": {"type": "number"},
            "t": {"type": "array", "items": {"type": "string"}},
            "m": {"type": "object"},
            "a": {"description": "anything"},
            "n": {"type": "integer"},
        },
        "required": ["x"],
    }


def test_all_categories_load(cases: list) -> None:
    functions = load_bfcl_functions()
    assert len(functions) > 2000
    assert all(f["function"]["parameters"]["type"] == "object" for f in functions)
    assert len(cases) > 2400
    assert {c["name"] for tools, calls in cases for c in calls} <= {f["function"]["name"] for f in functions}
    assert load_bfcl_cases(["simple"]) == load_bfcl_cases(CATEGORIES[:3])


def test_ground_truth_takes_the_first_acceptable_value(cases: list) -> None:
    """`{"unit": ["units", ""]}` means "units" or omitted; nested dicts hold option lists too."""
    first = cases[0]
    assert first.calls == [
        {"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5, "unit": "units"}}
    ]


def test_every_ground_truth_round_trips_in_xml_and_hermes(cases: list) -> None:
    checked = skipped = 0
    for tools, calls in cases:
        tool_set = ToolSet(tools)
        for call in calls:
            schema = tool_set.schema(call["name"])
            if validate_arguments(call["arguments"], schema):
                skipped += 1  # BFCL answers that break their own schema (e.g. null for a plain string)
                continue
            checked += 1
            for text, fmt in (
                (render_xml(call["name"], call["arguments"], schema), "xml"),
                (render_hermes(call["name"], call["arguments"]), "json"),
            ):
                (got,) = parse(text, tool_set, fmt).calls
                assert got.ok and not got.repairs, (text, got.errors, got.repairs)
                assert got.name == call["name"]
                assert same_value(got.arguments, call["arguments"]), text
    assert checked > 3000
    assert skipped < 0.07 * (checked + skipped)


def test_corruption_suite_repairs_every_shape_above_the_floor(cases: list) -> None:
    """A quarter of the cases keeps this fast; `evals/bench_toolcalls_repair.py` runs them all."""
    report = run_suite(cases[::4], seed=1)
    assert set(report["shapes"]) == {s.name for s in SHAPES}
    for name, shape in report["shapes"].items():
        assert shape["cases"] >= 50, name
        assert shape["rate"] >= REPAIR_FLOOR, (name, shape["failures"])
        assert shape["rule_recorded"] / shape["cases"] >= REPAIR_FLOOR, name
        assert shape["wrong_calls"] == 0, name  # ambiguity must become an error, never a different call
    assert report["rate"] >= REPAIR_FLOOR
