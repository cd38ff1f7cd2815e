"""Bug sites of a rendered program: (module, function, kind, candidate number), and planting one."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mimo_agent.evals.tasks import splice
from mimo_agent.evals.tasks.bugs import KINDS
from mimo_agent.evals.tasks.template import Program


@dataclass(frozen=True)
class Site:
    path: str
    function: str
    kind: str
    index: int

    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".") + "." + self.function


def functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef]]:
    """Module-level functions and methods of module-level classes, by qualified name."""
    found: list[tuple[str, ast.FunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            found += [(f"{node.name}.{f.name}", f) for f in node.body if isinstance(f, ast.FunctionDef)]
    return found


def find_sites(program: Program, kinds: Iterable[str], allowed: Callable[[str], bool]) -> list[Site]:
    """Every candidate of the given kinds in functions whose canonical dotted name `allowed` accepts."""
    found: list[Site] = []
    for path, text in program.sources.items():
        tree = ast.parse(text)
        for name, fn in functions(tree):
            site = Site(path, name, "", 0)
            if not allowed(program.canonical_name(site.dotted())):
                continue
            for kind in kinds:
                count = sum(1 for _ in KINDS[kind](fn, tree))
                found += [Site(path, name, kind, i) for i in range(count)]
    return found


def plant(program: Program, site: Site) -> str | None:
    """The module text with the bug at `site`, or None when it cannot be spliced faithfully."""
    text = program.files[site.path]
    tree = ast.parse(text)
    fn = dict(functions(tree))[site.function]
    mutation = next(m for i, m in enumerate(KINDS[site.kind](fn, tree)) if i == site.index)
    buggy = splice.apply(text, tree, mutation)
    return None if buggy == text else buggy
