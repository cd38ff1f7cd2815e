"""Syntax check after a write: tree-sitter parse errors with the lines around them, for the observation.

The write has already happened; the report tells the model what it broke so the next call can repair it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from mimo_agent.tools.languages import get_parser, language_for_path

# Languages whose grammars are strict enough that an ERROR node means broken code, not a grammar gap.
CHECKED_LANGUAGES = frozenset(
    """python javascript typescript tsx go rust java c cpp c_sharp ruby php bash json toml css kotlin scala
    lua""".split()  # noqa: SIM905 (a word list reads better than one name per line)
)
MAX_PROBLEMS = 5
CONTEXT_LINES = 2


@dataclass(frozen=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int  # 1-based
    message: str


def find_problems(path: str, text: str) -> tuple[str | None, list[SyntaxProblem]]:
    """(language, problems) for `text` as the file `path`; language None when the file is not checked."""
    language = language_for_path(path)
    if language not in CHECKED_LANGUAGES:
        return None, []
    parser = get_parser(language)
    if parser is None:
        return None, []
    root = parser.parse(text.encode("utf-8")).root_node
    problems: list[SyntaxProblem] = []
    if root.has_error:
        _collect(root, problems)
    return language, problems


def _collect(node: Node, problems: list[SyntaxProblem]) -> None:
    for child in node.children:
        if len(problems) >= MAX_PROBLEMS:
            return
        row, col = child.start_point
        if child.is_missing:
            problems.append(SyntaxProblem(row + 1, col + 1, f"missing {child.type!r}"))
        elif child.is_error:
            snippet = (child.text or b"").decode("utf-8", errors="replace").strip().splitlines()
            near = f" near {snippet[0][:40]!r}" if snippet else ""
            problems.append(SyntaxProblem(row + 1, col + 1, f"syntax error{near}"))
        elif child.has_error:
            _collect(child, problems)


def syntax_report(path: str, text: str) -> str:
    """An empty string when the file parses (or is not checked), else the problems with numbered context."""
    language, problems = find_problems(path, text)
    if not problems:
        return ""
    lines = text.splitlines()
    out = [
        f"Syntax check ({language}) found {len(problems)} problem(s) in {path}; the file was written anyway:"
    ]
    for problem in problems:
        out.append(f"  line {problem.line}, column {problem.column}: {problem.message}")
        lo = max(1, problem.line - CONTEXT_LINES)
        hi = min(len(lines), problem.line + CONTEXT_LINES)
        for number in range(lo, hi + 1):
            mark = ">" if number == problem.line else " "
            out.append(f"  {mark}{number:>6} | {lines[number - 1]}")
    return "\n".join(out)
