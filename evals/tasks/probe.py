"""Find what a user of the buggy program would see: run a failing test's steps one by one, in a subprocess.

The test's statements become a plan (plain statements, `assert a == b`, `assert x`, `pytest.raises`)
that a fixed probe script executes against the buggy code, stopping at the first step that misbehaves and
reporting the value it got, the value the test expected, or the exception raised. The steps before it
become the reproduction snippet of the issue.
"""

from __future__ import annotations

import ast
import builtins
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from mimo_agent.evals.tasks.runner import run

MARKER = "@@symptom@@"
PROBE = r"""
import json, sys
sys.path.insert(0, ".")
plan = json.loads(sys.argv[1])
ns = {}

def report(**fields):
    print("\n" + MARKER + json.dumps(fields))
    raise SystemExit(0)

for code in plan["prelude"]:
    exec(code, ns)
for i, step in enumerate(plan["steps"]):
    try:
        kind = step["kind"]
        if kind == "stmt":
            exec(step["code"], ns)
        elif kind == "eq":
            actual = eval(step["expr"], ns)
            if not actual == eval(step["rhs"], ns):
                report(step=i, actual=repr(actual), expected=repr(eval(step["shown"], ns)))
        elif kind == "truth":
            actual = eval(step["expr"], ns)
            if bool(actual) != step["want"]:
                report(step=i, actual=repr(actual), expected=repr(step["want"]))
        else:
            error = eval(step["error"], ns)
            try:
                actual = eval(step["expr"], ns)
            except error:
                continue
            report(step=i, actual=repr(actual), expected_error=step["error"])
    except SystemExit:
        raise
    except BaseException as exc:
        report(step=i, error=f"{type(exc).__name__}: {exc}")
report(step=None)
""".replace("MARKER", repr(MARKER))


class ProbeError(RuntimeError):
    """The probe could not show a symptom (the test passed step by step, or the probe itself failed)."""


@dataclass(frozen=True)
class Symptom:
    """What the user ran and saw. Exactly one of `actual`-with-`expected`, `error`, or `expected_error` tells it."""

    snippet: str
    expression: str
    actual: str | None = None
    expected: str | None = None
    error: str | None = None
    expected_error: str | None = None


def observe(repo: Path, test_text: str, test_name: str, timeout: float = 10.0) -> Symptom:
    """Run test `test_name` of `test_text` step by step in `repo` and describe its first misbehaving step."""
    tree = ast.parse(test_text)
    prelude = [node for node in tree.body if not isinstance(node, ast.FunctionDef | ast.ClassDef)]
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == test_name)
    steps = [_step(stmt) for stmt in function.body]
    plan = {"prelude": [ast.unparse(node) for node in prelude], "steps": steps}
    outcome = run([sys.executable, "-c", PROBE, json.dumps(plan)], repo, timeout)
    line = next((ln for ln in outcome.output.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise ProbeError(f"{test_name}: probe produced no report (timed out: {outcome.timed_out})")
    report = json.loads(line[len(MARKER) :])
    if report["step"] is None:
        raise ProbeError(f"{test_name}: every step behaved as the test expects")
    failing = steps[report["step"]]
    body = [_setup_code(step) for step in steps[: report["step"]]]
    shown = f"print({failing['expr']})" if failing["kind"] in ("eq", "truth") else failing["expr"]
    lines = [code for code in body if code] + [shown]
    return Symptom(
        snippet="\n".join([*_needed_prelude(test_text, prelude, lines), *lines]),
        expression=failing["expr"] if failing["kind"] != "stmt" else _headline(failing["code"]),
        actual=report.get("actual"),
        expected=report.get("expected"),
        error=report.get("error"),
        expected_error=report.get("expected_error"),
    )


def _step(stmt: ast.stmt) -> dict:
    if isinstance(stmt, ast.Assert):
        test = stmt.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            rhs = test.comparators[0]
            shown = rhs.args[0] if _is_approx(rhs) else rhs
            return {
                "kind": "eq",
                "expr": ast.unparse(test.left),
                "rhs": ast.unparse(rhs),
                "shown": ast.unparse(shown),
            }
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return {"kind": "truth", "expr": ast.unparse(test.operand), "want": False}
        return {"kind": "truth", "expr": ast.unparse(test), "want": True}
    if (
        isinstance(stmt, ast.With)
        and len(stmt.items) == 1
        and _is_raises(stmt.items[0].context_expr)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], ast.Expr)
    ):
        error = ast.unparse(stmt.items[0].context_expr.args[0])
        return {"kind": "raises", "expr": ast.unparse(stmt.body[0].value), "error": error}
    return {"kind": "stmt", "expr": ast.unparse(stmt), "code": ast.unparse(stmt)}


def _headline(code: str) -> str:
    """The call a user would name for a failing statement: its last call of a non-builtin."""
    calls = [
        node
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Call)
        and not (isinstance(node.func, ast.Name) and hasattr(builtins, node.func.id))
    ]
    return ast.unparse(calls[-1]) if calls else code.splitlines()[0]


def _setup_code(step: dict) -> str:
    """Earlier steps as the user would type them: statements kept, passed checks kept only for method calls."""
    if step["kind"] == "stmt":
        return step["code"]
    expr = ast.parse(step["expr"], mode="eval").body
    calls_method = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) for n in ast.walk(expr))
    return step["expr"] if calls_method and step["kind"] != "raises" else ""


def _needed_prelude(test_text: str, prelude: list[ast.stmt], lines: list[str]) -> list[str]:
    """The module-level imports and constants (as written) that the snippet's lines need."""
    needed = {n.id for line in lines for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Name)}
    constants: list[str] = []
    for node in reversed(prelude):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in needed for target in node.targets for t in ast.walk(target)
        ):
            constants.insert(0, ast.get_source_segment(test_text, node))
            needed |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    imports: list[str] = []
    for node in prelude:
        if isinstance(node, ast.Import | ast.ImportFrom):
            aliases = [a for a in node.names if (a.asname or a.name).split(".")[0] in needed]
            if aliases:
                imports.append(ast.unparse(_with_names(node, aliases)))
    return imports + constants


def _with_names(node: ast.Import | ast.ImportFrom, names: list[ast.alias]) -> ast.stmt:
    if isinstance(node, ast.ImportFrom):
        return ast.ImportFrom(node.module, names, node.level)
    return ast.Import(names)


def _is_approx(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.approx" and len(node.args) == 1


def _is_raises(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.raises" and len(node.args) == 1
