"""Bug injectors: each kind lists the mutations it can make inside one function, as AST edits.

A kind yields every candidate in a fixed traversal order, so a candidate is named by (module, function,
kind, position in that list) and can be re-created from a fresh parse. Whether a candidate is a real bug
(some test fails) is decided later by running the tests, not here.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator

from mimo_agent.evals.tasks.splice import Mutation

Slot = tuple[ast.AST, str, int | None, ast.AST]
Injector = Callable[[ast.FunctionDef, ast.Module], Iterator[Mutation]]

ARITHMETIC = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Add, ast.FloorDiv),
    ast.Div: (ast.FloorDiv, ast.Mult),
    ast.FloorDiv: (ast.Div, ast.Mod),
    ast.Mod: (ast.FloorDiv,),
}
BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
NEGATED = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
BUILTIN_TWINS = {"min": "max", "max": "min", "any": "all", "all": "any", "round": "int"}
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod)


def slots(fn: ast.FunctionDef) -> Iterator[Slot]:
    """Every (parent, field, index, child) in the function's body, skipping its docstring and nested defs."""
    body = fn.body[1:] if _is_docstring(fn.body[0]) else fn.body
    stack: list[Slot] = [(fn, "body", fn.body.index(stmt), stmt) for stmt in reversed(body)]
    while stack:
        slot = stack.pop()
        yield slot
        node = slot[3]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        children: list[Slot] = []
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                children += [
                    (node, name, i, item) for i, item in enumerate(value) if isinstance(item, ast.AST)
                ]
            elif isinstance(value, ast.AST):
                children.append((node, name, None, value))
        stack.extend(reversed(children))


def nodes(fn: ast.FunctionDef) -> Iterator[ast.AST]:
    return (slot[3] for slot in slots(fn))


def wrong_operator(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in ARITHMETIC:
            for op in ARITHMETIC[type(node.op)]:
                yield _with(parent, name, index, node, op=op())


def comparison_flip(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in BOUNDARY:
                    ops = [*node.ops[:i], BOUNDARY[type(op)](), *node.ops[i + 1 :]]
                    yield _with(parent, name, index, node, ops=ops)


def off_by_one(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for node in nodes(fn):
        if isinstance(node, ast.Call) and _called(node) == "range" and 1 <= len(node.args) <= 2:
            stop = len(node.args) - 1
            for delta in (-1, 1):
                yield Mutation(node, "args", stop, _shift(node.args[stop], delta))
            if len(node.args) == 2:
                yield Mutation(node, "args", 0, _shift(node.args[0], 1))
        elif isinstance(node, ast.Slice):
            for bound in ("lower", "upper"):
                if getattr(node, bound) is not None:
                    for delta in (-1, 1):
                        yield Mutation(node, bound, None, _shift(getattr(node, bound), delta))
        elif isinstance(node, ast.Subscript) and _int(node.slice) is not None:
            yield Mutation(node, "slice", None, _shift(node.slice, 1 if _int(node.slice) >= 0 else -1))


def wrong_constant(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(parent, ast.Subscript | ast.Slice) or _called(parent) == "range":
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            for value in _other_numbers(node.value):
                yield Mutation(parent, name, index, ast.Constant(value))


def swapped_args(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.Call) and not any(isinstance(a, ast.Starred) for a in node.args):
            for i in range(len(node.args) - 1):
                if ast.dump(node.args[i]) != ast.dump(node.args[i + 1]):
                    args = [*node.args[:i], node.args[i + 1], node.args[i], *node.args[i + 2 :]]
                    yield _with(parent, name, index, node, args=args)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, NON_COMMUTATIVE):
            yield _with(parent, name, index, node, left=node.right, right=node.left)


def missing_return(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
            body = getattr(parent, name)
            if isinstance(node.value, ast.Name) and len(body) > 1:
                yield Mutation(parent, name, index, [])
            elif not isinstance(node.value, ast.Name | ast.Constant):
                yield Mutation(parent, name, index, [ast.Expr(node.value)])


def inverted_condition(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for node in nodes(fn):
        tests: list[tuple[ast.AST, str, int | None, ast.expr]] = []
        if isinstance(node, ast.If | ast.IfExp):
            tests.append((node, "test", None, node.test))
        elif isinstance(node, ast.comprehension):
            tests += [(node, "ifs", i, cond) for i, cond in enumerate(node.ifs)]
        for owner, attr, i, cond in tests:
            if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not):
                continue
            if isinstance(cond, ast.Compare) and len(cond.ops) == 1 and type(cond.ops[0]) in NEGATED:
                yield Mutation(owner, attr, i, _with_node(cond, ops=[NEGATED[type(cond.ops[0])]()]))
            else:
                yield Mutation(owner, attr, i, ast.UnaryOp(ast.Not(), cond))


def wrong_variable(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
    bound_at = {p: 0 for p in params if p not in ("self", "cls")}
    for stmt in ast.walk(fn):
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.For):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        bound_at.setdefault(node.id, stmt.end_lineno)
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bound_at:
            for other, line in bound_at.items():
                if other != node.id and line < node.lineno:
                    yield Mutation(parent, name, index, ast.Name(other, ast.Load()))


def wrong_default(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for field_name in ("defaults", "kw_defaults"):
        for i, default in enumerate(getattr(fn.args, field_name)):
            if isinstance(default, ast.Constant) and type(default.value) in (bool, int, float):
                values = [not default.value] if type(default.value) is bool else _other_numbers(default.value)
                for value in values:
                    yield Mutation(fn.args, field_name, i, ast.Constant(value))


def dropped_not(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield Mutation(parent, name, index, node.operand)
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and type(node.ops[0]) in (ast.NotIn, ast.IsNot)
        ):
            positive = ast.In() if isinstance(node.ops[0], ast.NotIn) else ast.Is()
            yield _with(parent, name, index, node, ops=[positive])


def wrong_dict_key(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    keys = sorted({key.value for key in _key_constants(module)})
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.Constant) and any(node is key for key in _key_constants(fn)):
            for other in keys:
                if other != node.value:
                    yield Mutation(parent, name, index, ast.Constant(other))


def early_break(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    stop = (ast.Break, ast.Return, ast.Continue, ast.Raise)
    for node in nodes(fn):
        if not isinstance(node, ast.For):
            continue
        last = node.body[-1]
        if isinstance(last, ast.If) and not isinstance(last.body[-1], stop):
            yield Mutation(last, "body", len(last.body) - 1, [last.body[-1], ast.Break()])
        elif not isinstance(last, stop):
            yield Mutation(node, "body", len(node.body) - 1, [last, ast.Break()])


def accumulator_reset(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.AugAssign) and index is not None:
            yield Mutation(parent, name, index, [ast.Assign([node.target], node.value)])


def wrong_boolean(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for parent, name, index, node in slots(fn):
        if isinstance(node, ast.BoolOp):
            yield _with(parent, name, index, node, op=ast.Or() if isinstance(node.op, ast.And) else ast.And())


def wrong_builtin(fn: ast.FunctionDef, module: ast.Module) -> Iterator[Mutation]:
    for node in nodes(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BUILTIN_TWINS:
            yield Mutation(node, "func", None, ast.Name(BUILTIN_TWINS[node.func.id], ast.Load()))


KINDS: dict[str, Injector] = {
    "wrong_operator": wrong_operator,
    "comparison_flip": comparison_flip,
    "off_by_one": off_by_one,
    "wrong_constant": wrong_constant,
    "swapped_args": swapped_args,
    "missing_return": missing_return,
    "inverted_condition": inverted_condition,
    "wrong_variable": wrong_variable,
    "wrong_default": wrong_default,
    "dropped_not": dropped_not,
    "wrong_dict_key": wrong_dict_key,
    "early_break": early_break,
    "accumulator_reset": accumulator_reset,
    "wrong_boolean": wrong_boolean,
    "wrong_builtin": wrong_builtin,
}


def _with(parent: ast.AST, name: str, index: int | None, node: ast.AST, **changes: object) -> Mutation:
    return Mutation(parent, name, index, _with_node(node, **changes))


def _with_node(node: ast.AST, **changes: object) -> ast.AST:
    new = copy.copy(node)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _shift(expr: ast.expr, delta: int) -> ast.expr:
    """`expr + delta`, folded into an integer literal or an existing `x ± k` where there is one."""
    value = _int(expr)
    if value is not None:
        return (
            ast.Constant(value + delta)
            if value + delta >= 0
            else ast.UnaryOp(ast.USub(), ast.Constant(-value - delta))
        )
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Add | ast.Sub)
        and _int(expr.right) is not None
    ):
        k = _int(expr.right) * (1 if isinstance(expr.op, ast.Add) else -1) + delta
        if k == 0:
            return expr.left
        return ast.BinOp(expr.left, ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))
    return ast.BinOp(expr, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def _int(expr: ast.AST) -> int | None:
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub) and _int(expr.operand) is not None:
        return -_int(expr.operand)
    return None


def _other_numbers(value: int | float) -> list[int | float]:
    if type(value) is int:
        return [1] if value == 0 else [value + 1, value - 1]
    return [round(value * 10, 10), round(value / 10, 10)] if value else [1.0]


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _key_constants(tree: ast.AST) -> list[ast.Constant]:
    """String literals used as mapping keys: `d["k"]`, `d.get("k")`, `{"k": v}`."""
    found: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.append(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("get", "pop", "setdefault"):
                found.append(node.args[0])
        elif isinstance(node, ast.Dict):
            found += [key for key in node.keys if key is not None]
    return [node for node in found if isinstance(node, ast.Constant) and isinstance(node.value, str)]
