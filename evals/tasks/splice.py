"""Apply one AST edit to source text while keeping every other byte (comments, layout) unchanged.

Only the edited expression, or the edited statement's lines, are rewritten with `ast.unparse`; the
result is re-parsed and compared with the edited tree, so a splice that changed the meaning beyond the
edit (a lost pair of parentheses, a statement sharing a line) is refused rather than trusted.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass
class Mutation:
    """Replace `getattr(parent, field)[index]` (or the plain attribute when `index` is None).

    `new` is an expression node, or a list of statements replacing one statement (empty: deletion).
    """

    parent: ast.AST
    field: str
    index: int | None
    new: ast.AST | list[ast.stmt]

    @property
    def old(self) -> ast.AST:
        value = getattr(self.parent, self.field)
        return value if self.index is None else value[self.index]


def apply(source: str, tree: ast.Module, mutation: Mutation) -> str | None:
    """Edit `tree` in place and return the matching source, or None when no faithful splice exists."""
    old = mutation.old
    if isinstance(mutation.new, list):
        for stmt in mutation.new:
            if not hasattr(stmt, "lineno"):
                ast.copy_location(stmt, old)  # unparse reads `lineno` of assignments
        candidates = [_replace_lines(source, old, mutation.new)]
    else:
        code = ast.unparse(mutation.new)
        candidates = [_replace_span(source, old, code), _replace_span(source, old, f"({code})")]
    _set(mutation)
    expected = ast.dump(tree)
    for text in candidates:
        try:
            if ast.dump(ast.parse(text)) == expected:
                return text
        except SyntaxError:
            continue
    return None


def _set(mutation: Mutation) -> None:
    if mutation.index is None:
        setattr(mutation.parent, mutation.field, mutation.new)
    elif isinstance(mutation.new, list):
        getattr(mutation.parent, mutation.field)[mutation.index : mutation.index + 1] = mutation.new
    else:
        getattr(mutation.parent, mutation.field)[mutation.index] = mutation.new


def _replace_span(source: str, node: ast.AST, code: str) -> str:
    # Column offsets are UTF-8 byte offsets.
    lines = [line.encode() for line in source.splitlines(keepends=True)]
    first, last = node.lineno - 1, node.end_lineno - 1
    head = lines[first][: node.col_offset]
    tail = lines[last][node.end_col_offset :]
    lines[first : last + 1] = [head + code.encode() + tail]
    return b"".join(lines).decode()


def _replace_lines(source: str, stmt: ast.AST, new: list[ast.stmt]) -> str:
    """Rewrite the statement's lines; when `new` starts with the statement itself, only insert after it."""
    lines = source.splitlines(keepends=True)
    indent = " " * stmt.col_offset
    kept = bool(new) and new[0] is stmt
    added = new[1:] if kept else new
    body = "".join(indent + line + "\n" for node in added for line in ast.unparse(node).splitlines())
    start = stmt.end_lineno if kept else stmt.lineno - 1
    lines[start : stmt.end_lineno] = [body]
    return "".join(lines)
