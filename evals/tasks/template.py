"""Program templates and their rendering into one concrete, seeded variant.

A template is a small package plus its pytest suite written as text with three kinds of markup, so that
two seeds of one template differ in surface form while meaning the same thing:

- `{% first || second %}`: equivalent alternatives (a loop or a comprehension, a docstring or none);
- `{=expr=}`: a Python expression over the template's chosen constants, written as a literal;
- identifiers listed in `names` are renamed everywhere (code, strings, file paths) to a pool member.

Top-level definitions of every module are also shuffled, and some docstrings dropped.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass, field

ALTERNATIVES = re.compile(r"\{%(.*?)%\}", re.DOTALL)
EXPRESSION = re.compile(r"\{=(.*?)=\}", re.DOTALL)
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
DOCSTRING_DROP_RATE = 0.3
EXPRESSION_BUILTINS = {"round": round, "int": int, "range": range, "len": len, "str": str, "sum": sum}


class TemplateError(ValueError):
    """A template's markup or rendered code is malformed (a bug in the template, named in the message)."""


@dataclass(frozen=True)
class ProgramTemplate:
    """One program family: `files` maps a path (tests under `tests/`) to marked-up Python source."""

    name: str
    files: dict[str, str]
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, tuple[object, ...]] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return next(iter(self.files)).split("/")[0]


@dataclass(frozen=True)
class Program:
    """A rendered variant: concrete files plus the map from chosen identifiers back to canonical ones."""

    template: str
    package: str
    files: dict[str, str]
    canonical: dict[str, str]

    @property
    def sources(self) -> dict[str, str]:
        return {path: text for path, text in self.files.items() if not path.startswith("tests/")}

    @property
    def tests(self) -> dict[str, str]:
        return {path: text for path, text in self.files.items() if path.startswith("tests/")}

    def canonical_name(self, dotted: str) -> str:
        """`depot.storeroom.Warehouse.dispatch` -> `inventory.stock.Stockroom.ship`, the same for every seed."""
        return ".".join(self.canonical.get(part, part) for part in dotted.split("."))


def render(template: ProgramTemplate, rng: random.Random) -> Program:
    constants = {key: rng.choice(values) for key, values in template.constants.items()}
    chosen = _choose_names(template, rng)
    files: dict[str, str] = {}
    for path, text in template.files.items():
        text = ALTERNATIVES.sub(lambda m: rng.choice(m.group(1).split("||")).strip("\n "), text)
        where = f"{template.name}: {path}"
        text = EXPRESSION.sub(lambda m, where=where: _literal(m.group(1), constants, where), text)
        text = _rename(text, chosen)
        text = _drop_docstrings(text, rng) if not path.startswith("tests/") else text
        files[_rename(path, chosen)] = _shuffle_definitions(text, rng, f"{template.name}: {path}")
    canonical = {new: old for old, new in chosen.items()}
    return Program(template.name, _rename(template.package, chosen), files, canonical)


def _choose_names(template: ProgramTemplate, rng: random.Random) -> dict[str, str]:
    """One name per canonical identifier, never one the template already uses for something else."""
    taken = {word for text in template.files.values() for word in IDENTIFIER.findall(text)}
    chosen: dict[str, str] = {}
    for canonical, pool in template.names.items():
        options = [canonical] + [n for n in pool if n not in taken and n not in chosen.values()]
        chosen[canonical] = rng.choice(options)
    return chosen


def _literal(expression: str, constants: dict[str, object], where: str) -> str:
    try:
        # Constants are globals so that comprehensions in the expression can see them.
        value = eval(expression, {"__builtins__": EXPRESSION_BUILTINS, **constants})
    except Exception as exc:  # a broken template expression, reported with its place
        raise TemplateError(f"{where}: cannot evaluate {{={expression}=}}: {exc}") from exc
    return repr(round(value, 10) if isinstance(value, float) else value)


def _rename(text: str, chosen: dict[str, str]) -> str:
    changed = {old: new for old, new in chosen.items() if old != new}
    if not changed:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(changed, key=len, reverse=True))) + r")\b")
    return pattern.sub(lambda m: changed[m.group(1)], text)


def _drop_docstrings(text: str, rng: random.Random) -> str:
    """Remove some function docstrings (never a function's only statement)."""
    lines = text.splitlines(keepends=True)
    drops: list[tuple[int, int]] = []
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.FunctionDef)
            and len(node.body) > 1
            and _is_docstring(node.body[0])
            and rng.random() < DOCSTRING_DROP_RATE
        ):
            drops.append((node.body[0].lineno - 1, node.body[0].end_lineno))
    for start, end in sorted(drops, reverse=True):
        del lines[start:end]
    return "".join(lines)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _shuffle_definitions(text: str, rng: random.Random, where: str) -> str:
    """Reorder the top-level defs and classes that follow the module header (imports and constants)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise TemplateError(f"{where}: rendered code does not parse: {exc}") from exc
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)]
    if len(defs) < 2 or tree.body[-len(defs) :] != defs:
        return text
    lines = text.splitlines(keepends=True)
    starts = [min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1 for node in defs]
    header = "".join(lines[: starts[0]]).rstrip("\n") + "\n"
    blocks = ["".join(lines[a:b]).strip("\n") for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    rng.shuffle(blocks)
    return header + "\n\n" + "\n\n\n".join(blocks) + "\n"
