"""Local `$ref`s inlined, so every sub-schema of a tool stands on its own.

The repair layer reads and validates one parameter's sub-schema at a time; a `{"$ref": "#/$defs/X"}`
there points into a root it no longer has (pydantic writes such refs for every nested model).
Recursive definitions cannot be inlined; they keep their `$ref` and the root keeps `$defs`. A `$ref`
that points nowhere is refused here, when the tools are read, rather than failing each later validation.
"""

from __future__ import annotations

from typing import Any

_DEF_MAPS = ("$defs", "definitions")


class DanglingRef(ValueError):
    """A `$ref` that names no sub-schema of its root (missing definition, or not a local `#/` pointer)."""

    def __init__(self, ref: str):
        super().__init__(f"$ref {ref!r} points nowhere in the schema")
        self.ref = ref


def _pointer(root: dict[str, Any], ref: str) -> Any:
    """The node a local JSON pointer (`#/a/b`) names, or None."""
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node if isinstance(node, dict) else None


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every non-recursive local `$ref` replaced by its target (siblings override).

    Raises DanglingRef for a `$ref` whose target does not exist.
    """
    recursive: set[str] = set()

    def walk(node: Any, active: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(v, active) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = _pointer(schema, ref)
            if target is None:
                raise DanglingRef(ref)
            if ref in active:
                recursive.add(ref)
                return {k: walk(v, active) if k != "$ref" else v for k, v in node.items()}
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return walk({**target, **siblings}, (*active, ref))
        return {k: walk(v, active) for k, v in node.items() if k not in _DEF_MAPS}

    out = walk(schema, ())
    if recursive:
        for key in _DEF_MAPS:
            if key in schema:
                out[key] = schema[key]
    return out
