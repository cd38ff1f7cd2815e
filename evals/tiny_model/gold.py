"""What a task's gold patch tells the expert: `edit` calls that make the fix, and where the bug sits.

Each hunk becomes one `edit(path, old_string, new_string)`: the changed lines, widened by the hunk's
context lines until `old_string` occurs exactly once in the buggy file (the `edit` tool's rule).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")


class GoldPatchError(ValueError):
    """A gold patch the expert cannot turn into edits (the message names the instance part and why)."""


@dataclass(frozen=True)
class GoldEdit:
    path: str
    old_string: str
    new_string: str
    line: int  # 1-based line of the first changed line in the buggy file


@dataclass(frozen=True)
class Definition:
    """A function or method: its name and the lines it spans (decorators included)."""

    name: str
    start: int
    end: int


def gold_edits(patch: str, files: dict[str, str]) -> list[GoldEdit]:
    """The edits that apply `patch` to `files` (path -> buggy text), one per hunk, in patch order."""
    edits: list[GoldEdit] = []
    for path, old_start, lines in _hunks(patch):
        if path not in files:
            raise GoldPatchError(f"gold patch changes {path!r}, which is not a file of the repository")
        edits.append(_edit(path, old_start, lines, files[path]))
    if not edits:
        raise GoldPatchError("gold patch has no hunks")
    return edits


def _hunks(patch: str) -> list[tuple[str, int, list[tuple[str, str]]]]:
    hunks: list[tuple[str, int, list[tuple[str, str]]]] = []
    path = ""
    for line in patch.splitlines():
        if line.startswith("+++ "):
            path = line[4:].removeprefix("b/")
        elif line.startswith("--- ") or line.startswith("diff ") or line.startswith("index "):
            continue
        elif (header := _HUNK.match(line)) is not None:
            hunks.append((path, int(header.group(1)), []))
        elif hunks and line[:1] in (" ", "-", "+"):
            hunks[-1][2].append((line[:1], line[1:]))
        elif hunks and line == "":
            hunks[-1][2].append((" ", ""))
    return hunks


def _edit(path: str, old_start: int, lines: list[tuple[str, str]], text: str) -> GoldEdit:
    changed = [i for i, (tag, _) in enumerate(lines) if tag != " "]
    if not changed:
        raise GoldPatchError(f"a hunk of {path} changes nothing")
    lo, hi = changed[0], changed[-1]
    first_line = old_start + sum(1 for tag, _ in lines[: changed[0]] if tag != "+")
    above = True  # widen one context line at a time, alternating, starting above
    while True:
        old = "\n".join(body for tag, body in lines[lo : hi + 1] if tag != "+")
        if old.strip() and text.count(old) == 1:
            new = "\n".join(body for tag, body in lines[lo : hi + 1] if tag != "-")
            return GoldEdit(path, old, new, first_line)
        if lo == 0 and hi == len(lines) - 1:
            raise GoldPatchError(f"no unique old_string for the hunk at {path}:{old_start}")
        if (above and lo > 0) or hi == len(lines) - 1:
            lo -= 1
        else:
            hi += 1
        above = not above


def enclosing_definition(source: str, line: int) -> Definition | None:
    """The innermost function or method of `source` that holds `line` (None at module level)."""
    best: Definition | None = None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            if start <= line <= end and (best is None or start >= best.start):
                best = Definition(node.name, start, end)
    return best


def definitions(files: dict[str, str], name: str) -> list[tuple[str, Definition]]:
    """Where function or method `name` is defined in `files`, in path order."""
    found = []
    for path in sorted(files):
        if not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(files[path])):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found.append((path, Definition(name, start, node.end_lineno or node.lineno)))
    return found
