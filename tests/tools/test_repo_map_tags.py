"""Tag extraction per language: the definitions (with categories and spans) and references each query finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.tools.repo_map.languages import EXTENSIONS, fingerprint, grammar, language_for
from mimo_agent.tools.repo_map.tags import extract_tags

FIXTURES = Path(__file__).parent / "fixtures" / "repo_map"

# (sample file, definitions expected as (name, category), names expected among the references)
CASES = {
    "python": (
        "shapes/geometry.py",
        {("ORIGIN_NAME", "constant"), ("Point", "class"), ("shifted", "function"), ("distance", "function")},
        {"dataclass", "Point", "hypot", "max"},
    ),
    "javascript": (
        "canvas.js",
        {("Surface", "class"), ("Canvas", "class"), ("span", "method"), ("walk", "function")},
        {"Surface", "distance", "makePoint", "Point", "clear"},
    ),
    "typescript": (
        "geometry.ts",
        {
            ("Shape", "interface"),
            ("Coord", "type"),
            ("Color", "enum"),
            ("Point", "class"),
            ("Figure", "class"),
            ("perimeter", "method"),
            ("distance", "function"),
            ("Units", "module"),
            ("scale", "function"),
        },
        {"Point", "Coord", "hypot"},
    ),
    "go": (
        "canvas/canvas.go",
        {("DefaultWidth", "variable"), ("Canvas", "type"), ("Draw", "method"), ("New", "function")},
        {"Shape", "Point", "Distance", "append"},
    ),
    "rust": (
        "src/geometry.rs",
        {
            ("ORIGIN", "constant"),
            ("Point", "class"),
            ("Color", "class"),
            ("Shape", "interface"),
            ("area", "method"),
            ("shifted", "function"),
            ("distance", "function"),
            ("point", "macro"),
        },
        {"Point", "powi", "sqrt"},
    ),
    "java": (
        "geometry/Point.java",
        {("Point", "class"), ("area", "method"), ("distance", "method"), ("Color", "enum")},
        {"Shape", "hypot", "Point"},
    ),
    "c": (
        "geometry.h",
        {
            ("SQUARE", "macro"),
            ("Point", "class"),
            ("Point", "type"),
            ("Color", "type"),
            ("distance", "function"),
            ("point_new", "function"),
        },
        {"Point"},
    ),
    "cpp": (
        "geometry.cpp",
        {("geo", "module"), ("Point", "method"), ("norm", "method"), ("distance", "function")},
        {"sqrt", "fabs", "norm", "Point"},
    ),
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_definitions_and_references(language: str) -> None:
    rel, expected_defs, expected_refs = CASES[language]
    source = (FIXTURES / language / rel).read_bytes()
    tags = extract_tags(source, language_for(rel), rel)
    found = {(t.name, t.category) for t in tags.definitions}
    assert expected_defs <= found, f"missing {expected_defs - found}"
    assert expected_refs <= set(tags.references), f"missing {expected_refs - set(tags.references)}"
    assert all(t.file == rel for t in tags.definitions)
    assert [t.line for t in tags.definitions] == sorted(t.line for t in tags.definitions)
    lines = source.decode().splitlines()
    for tag in tags.definitions:
        assert tag.name in lines[tag.line - 1] and tag.text == lines[tag.line - 1].rstrip()
        assert tag.end_line >= tag.line


def test_a_definition_is_not_also_its_own_reference() -> None:
    """Patterns like `(type_identifier) @reference.type` also match the name in `struct Point`."""
    tags = extract_tags(b"pub struct Point { x: f64 }\nfn f(p: Point) {}\n", "rust", "a.rs")
    assert [t.name for t in tags.definitions] == ["Point", "f"]
    assert tags.references == {"Point": 1}  # only the use in f's parameter


def test_references_are_counted_in_order_of_first_use() -> None:
    tags = extract_tags(b"def f():\n    g()\n    h()\n    g()\n", "python", "a.py")
    assert list(tags.references.items()) == [("g", 2), ("h", 1)]


def test_spans_reach_the_end_of_the_construct() -> None:
    source = b"class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        pass\n"
    spans = {t.name: (t.line, t.end_line) for t in extract_tags(source, "python", "a.py").definitions}
    assert spans == {"A": (1, 6), "f": (2, 3), "g": (5, 6)}


def test_rust_impl_block_is_a_scope_not_a_definition() -> None:
    source = b"struct S;\nimpl S {\n    fn new() -> S { S }\n}\n"
    tags = extract_tags(source, "rust", "s.rs")
    assert [(t.category, t.line, t.end_line, t.text) for t in tags.scopes] == [("scope", 2, 4, "impl S {")]
    assert [t.name for t in tags.definitions] == ["S", "new"]


def test_include_guards_are_not_definitions() -> None:
    source = b"#ifndef A_H\n#define A_H\n#define LIMIT 10\n#endif\n"
    assert [t.name for t in extract_tags(source, "c", "a.h").definitions] == ["LIMIT"]


def test_binary_content_has_no_tags() -> None:
    tags = extract_tags(b"def f():\x00\x01\x02 pass\n", "python", "blob.py")
    assert tags.definitions == [] and tags.references == {} and tags.scopes == []


def test_broken_source_still_yields_the_intact_definitions() -> None:
    tags = extract_tags(b"def good():\n    pass\n\ndef broken(:\n", "python", "b.py")
    assert "good" in [t.name for t in tags.definitions]


def test_non_utf8_source_is_decoded_with_replacement() -> None:
    tags = extract_tags("def caf\u00e9():\n    pass\n".encode("latin-1"), "python", "l.py")
    assert [t.text for t in tags.definitions] == ["def caf\ufffd():"]


@pytest.mark.parametrize("language", sorted(set(EXTENSIONS.values())))
def test_every_language_query_compiles(language: str) -> None:
    assert grammar(language).query.pattern_count > 0


def test_language_by_extension() -> None:
    assert language_for("a/b.PY") == "python"
    assert language_for("x.tsx") == "tsx"
    assert language_for("x.hpp") == "cpp"
    assert language_for("README.md") is None


def test_fingerprint_is_stable_within_a_process() -> None:
    assert fingerprint() == fingerprint() and len(fingerprint()) == 16
