"""Validation errors are data: path, expected, got."""

from __future__ import annotations

from mimo_agent.toolcalls.validate import validate_arguments

SCHEMA = {
    "type": "object",
    "properties": {
        "a": {"type": "integer"},
        "b": {"type": "object", "properties": {"c": {"type": "string"}}},
    },
    "required": ["a", "z"],
}


def test_each_problem_is_one_error_with_a_path() -> None:
    errors = validate_arguments(
        {"b": {"c": 3}, "extra": 1}, {**SCHEMA, "properties": {**SCHEMA["properties"], "z": {}}}
    )
    by_path = {e.path: e for e in errors}
    assert set(by_path) == {"extra", "a", "z", "b/c"}
    assert by_path["a"].got == "missing"
    assert by_path["b/c"].expected == 'type "string"'
    assert by_path["b/c"].got == "3"
    assert by_path["extra"].got == "unknown parameter"


def test_valid_arguments_have_no_errors_and_no_schema_means_no_check() -> None:
    assert (
        validate_arguments({"a": 1, "z": 2}, {**SCHEMA, "properties": {**SCHEMA["properties"], "z": {}}})
        == []
    )
    assert validate_arguments({"anything": 1}, None) == []


def test_a_broken_schema_is_an_error_not_a_crash() -> None:
    (error,) = validate_arguments({"a": 1}, {"type": "object", "properties": {"a": {"type": "decimal128"}}})
    assert (error.path, error.expected) == ("", "a valid JSON Schema for the tool")
