"""What a user's issue text gives away: the reproduction snippet, the module it imports, what it calls.

The expert may only act on what a model could read in the issue, so its first searches come from here.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

_SNIPPET = re.compile(r"```python\n(.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class IssueFacts:
    snippet: str | None  # the first ```python block, verbatim
    module_path: str | None  # file of the first `from a.b import …` (a/b.py)
    calls: tuple[str, ...]  # names called in the snippet, last statement first, builtins left out


def read_issue(text: str) -> IssueFacts:
    match = _SNIPPET.search(text)
    if match is None:
        return IssueFacts(None, None, ())
    snippet = match.group(1)
    try:
        tree = ast.parse(snippet)
    except SyntaxError:
        return IssueFacts(snippet, None, ())
    module_path = next(
        (
            node.module.replace(".", "/") + ".py"
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        ),
        None,
    )
    calls: list[str] = []
    for statement in reversed(tree.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                name = _called_name(node.func)
                if name and not hasattr(builtins, name) and name not in calls:
                    calls.append(name)
    return IssueFacts(snippet, module_path, tuple(calls))


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None
