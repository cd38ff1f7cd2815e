"""Typing raw XML values by schema, and coercing wrong-typed JSON values."""

from __future__ import annotations

import pytest

from mimo_agent.toolcalls.convert import coerce, from_text, same_value

INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
STR = {"type": "string"}


@pytest.mark.parametrize(
    ("raw", "schema", "value"),
    [
        ("5", INT, 5),
        (" 5\n", INT, 5),
        ("5.0", INT, 5),
        ("5.5", NUM, 5.5),
        ("1e3", NUM, 1000.0),
        ("true", BOOL, True),
        ("False", BOOL, False),
        ("null", INT, None),
        ("NULL", {"type": ["string", "null"]}, None),
        ("null", STR, "null"),
        ("  keep  spaces ", STR, "  keep  spaces "),
        ("[1, 2]", {"type": "array", "items": INT}, [1, 2]),
        ("['a', 'b']", {"type": "array"}, ["a", "b"]),
        ('{"a": 1}', {"type": "object"}, {"a": 1}),
        ("celsius", {"enum": ["celsius", "fahrenheit"]}, "celsius"),
        ("2", {"enum": [1, 2]}, 2),
        ("5", {"anyOf": [INT, STR]}, 5),
        ("five", {"anyOf": [INT, STR]}, "five"),
        ('"5"', {"anyOf": [INT, STR]}, "5"),
        ("7", {}, 7),
        ("plain words", {}, "plain words"),
    ],
)
def test_from_text_reads_the_schema_type(raw: str, schema: dict, value: object) -> None:
    assert same_value(from_text(raw, schema), value)


@pytest.mark.parametrize(
    ("raw", "schema"), [("yes", BOOL), ("5 apples", INT), ("inf", NUM), ("[1,", {"type": "array"})]
)
def test_unreadable_values_stay_text_for_the_validator(raw: str, schema: dict) -> None:
    """SGLang turns "yes" into False and "5 apples" into a string silently; here the raw text survives."""
    assert from_text(raw, schema) == raw


def test_coerce_fixes_stringified_values_and_names_the_rule() -> None:
    schema = {
        "type": "object",
        "properties": {"n": INT, "flag": BOOL, "items": {"type": "array", "items": INT}, "name": STR},
    }
    repairs: list[str] = []
    value = coerce({"n": "5", "flag": "false", "items": "[1, 2]", "name": 7}, schema, repairs)
    assert value == {"n": 5, "flag": False, "items": [1, 2], "name": "7"}
    assert set(repairs) == {"wrong_type_value"}


def test_coerce_leaves_what_it_cannot_read() -> None:
    repairs: list[str] = []
    assert coerce("lots", INT, repairs) == "lots"
    assert coerce("data['sales']", {"type": "array"}, repairs) == "data['sales']"
    assert repairs == []


def test_coerce_nested_and_enum_case() -> None:
    schema = {
        "type": "object",
        "properties": {"o": {"type": "object", "properties": {"m": INT}}, "u": {"enum": ["Celsius"]}},
    }
    repairs: list[str] = []
    assert coerce({"o": {"m": "3"}, "u": "celsius"}, schema, repairs) == {"o": {"m": 3}, "u": "Celsius"}
    assert repairs == ["wrong_type_value", "enum_case"]


def test_coerce_picks_the_union_branch_that_validates() -> None:
    repairs: list[str] = []
    assert coerce("12", {"anyOf": [{"type": "null"}, INT]}, repairs) == 12
    assert repairs == ["wrong_type_value"]


def test_same_value_tells_types_apart() -> None:
    assert not same_value(1, True)
    assert not same_value(1, 1.0)
    assert same_value({"a": [1]}, {"a": [1]})
