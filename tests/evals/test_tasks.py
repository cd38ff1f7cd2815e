"""The generated task family: rendering, bug injection, verification, SWE-bench format, splits."""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from mimo_agent.evals.tasks import check_instance, generate_split, templates_for
from mimo_agent.evals.tasks.bugs import KINDS
from mimo_agent.evals.tasks.instance import _without_tests
from mimo_agent.evals.tasks.probe import observe
from mimo_agent.evals.tasks.programs import TEMPLATES
from mimo_agent.evals.tasks.repo import git, write_files
from mimo_agent.evals.tasks.search import SearchStats, Workbench, changed_lines
from mimo_agent.evals.tasks.sites import find_sites, functions, plant
from mimo_agent.evals.tasks.splice import Mutation, apply
from mimo_agent.evals.tasks.splits import SPLITS, TEST_TEMPLATES, placement_split
from mimo_agent.evals.tasks.template import render

SWE_BENCH_FIELDS = {
    "repo",
    "instance_id",
    "base_commit",
    "patch",
    "test_patch",
    "problem_statement",
    "hints_text",
    "created_at",
    "version",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
    "environment_setup_commit",
}
SPEC_FIELDS = {"source", "python", "pip_install", "install", "test_cmd", "log_parser"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tasks")
    generate_split("test", 2, 1, out)
    return out


def _rows(out: Path) -> tuple[list[dict], dict]:
    rows = [json.loads(line) for line in (out / "instances.jsonl").read_text().splitlines()]
    return rows, json.loads((out / "specs.json").read_text())


def test_instances_have_swe_bench_fields_and_specs(generated: Path) -> None:
    rows, specs = _rows(generated)
    assert len(rows) == 2
    for row in rows:
        assert set(row) == SWE_BENCH_FIELDS
        assert json.loads(row["FAIL_TO_PASS"]) and json.loads(row["PASS_TO_PASS"])
        assert row["environment_setup_commit"] == row["base_commit"]
        spec = specs[row["instance_id"]]
        assert set(spec) == SPEC_FIELDS
        assert spec["source"]["type"] == "path" and spec["log_parser"] == "parse_log_pytest"
        assert spec["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
        assert spec["test_cmd"].startswith("python -m pytest -rA tests/")
        repo = generated / spec["source"]["path"]
        assert git(repo, row["created_at"], "rev-parse", "HEAD").strip() == row["base_commit"]
        assert git(repo, row["created_at"], "status", "--porcelain") == ""


def test_instances_fail_before_and_pass_after_the_gold_patch(generated: Path) -> None:
    rows, specs = _rows(generated)
    for row in rows:
        result = check_instance(row, specs[row["instance_id"]], generated)
        assert result.ok, result


def test_detecting_tests_live_in_the_test_patch(generated: Path) -> None:
    rows, specs = _rows(generated)
    for row in rows:
        repo = generated / specs[row["instance_id"]]["source"]["path"]
        for node_id in json.loads(row["FAIL_TO_PASS"]):
            path, name = node_id.split("::")
            assert f"+def {name}(" in row["test_patch"]
            base = repo / path
            assert not base.exists() or f"def {name}(" not in base.read_text()


def test_issue_text_never_quotes_the_changed_code(generated: Path) -> None:
    rows, _ = _rows(generated)
    for row in rows:
        changed = [
            line[1:].strip()
            for line in row["patch"].splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
        ]
        assert changed
        for line in changed:
            assert line not in row["problem_statement"]
        assert "```python" in row["problem_statement"]


def test_same_seed_gives_identical_instances_through_the_command_line(
    generated: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    command = [sys.executable, "-m", "mimo_agent.evals.tasks", "--split", "test", "--count", "2"]
    done = subprocess.run(
        [*command, "--seed", "1", "--out", str(out)], capture_output=True, text=True, timeout=300, check=True
    )
    summary = json.loads(done.stdout)
    assert summary["instances"] == 2 and sum(summary["by_kind"].values()) == 2
    assert (out / "instances.jsonl").read_bytes() == (generated / "instances.jsonl").read_bytes()
    assert (out / "specs.json").read_bytes() == (generated / "specs.json").read_bytes()


@pytest.mark.slow
def test_every_bug_kind_is_produced_and_verified_on_some_template() -> None:
    """shopping_cart hosts every kind but off-by-one, which bank_ledger's slices and ranges host."""
    produced: dict[str, str] = {}
    stats = SearchStats()
    for name in ("shopping_cart", "bank_ledger"):
        rng = random.Random(0)
        with Workbench.open(render(TEMPLATES[name], rng), stats) as bench:
            for kind in sorted(set(KINDS) - set(produced)):
                task = bench.search([kind], lambda _: True, rng, max_candidates=3)
                if task is not None:
                    assert task.site.kind == kind and task.fail_to_pass and task.pass_to_pass
                    produced[kind] = name
    assert sorted(produced) == sorted(KINDS)


def test_test_split_templates_and_placements_never_reach_train() -> None:
    train = {t.name for t in templates_for("train")}
    test = {t.name for t in templates_for("test")}
    assert test == set(TEST_TEMPLATES) and not train & test
    assert len(TEMPLATES) >= 12
    held_out: set[str] = set()
    for name in train:
        program = render(TEMPLATES[name], random.Random(3))
        placements = {program.canonical_name(s.dotted()) for s in find_sites(program, KINDS, lambda _: True)}
        by_split = {split: {f for f in placements if placement_split(name, f) == split} for split in SPLITS}
        assert by_split["train"] and not by_split["test"]
        held_out |= by_split["validation"]
    assert held_out, "validation should hold bugs in unseen functions of training templates"


def test_placements_do_not_depend_on_the_seed() -> None:
    template = TEMPLATES["inventory"]
    names = [
        sorted({p.canonical_name(s.dotted()) for s in find_sites(p, KINDS, lambda _: True)})
        for p in (render(template, random.Random(seed)) for seed in range(4))
    ]
    assert all(n == names[0] for n in names) and "inventory.stock.Stockroom.ship" in names[0]


def test_two_seeds_of_a_template_differ_in_surface_form() -> None:
    first, second = (render(TEMPLATES["grade_book"], random.Random(seed)) for seed in (0, 1))
    assert first.files != second.files
    for program in (first, second):
        for text in program.files.values():
            ast.parse(text)


def test_rendering_is_deterministic() -> None:
    for template in TEMPLATES.values():
        assert render(template, random.Random(5)) == render(template, random.Random(5))


def test_splice_keeps_comments_and_adds_needed_parentheses() -> None:
    source = "def f(a, b, c):\n    # keep me\n    return a * (b + c)  # and me\n"
    tree = ast.parse(source)
    product = tree.body[0].body[0].value
    minus = ast.BinOp(ast.Name("b", ast.Load()), ast.Sub(), ast.Name("c", ast.Load()))
    assert apply(source, tree, Mutation(product, "right", None, minus)) == source.replace("b + c", "b - c")
    tree = ast.parse(source)
    product = tree.body[0].body[0].value
    plus = ast.BinOp(ast.Name("x", ast.Load()), ast.Add(), ast.Name("y", ast.Load()))
    assert apply(source, tree, Mutation(product, "left", None, plus)) == source.replace("a *", "(x + y) *")


def test_statement_insertion_leaves_the_loop_intact() -> None:
    source = "def f(xs):\n    out = []\n    for x in xs:\n        if x:\n            out.append(x)  # kept\n    return out\n"
    tree = ast.parse(source)
    ((_, fn),) = functions(tree)
    mutation = next(KINDS["early_break"](fn, tree))
    text = apply(source, tree, mutation)
    assert text == source.replace("# kept\n", "# kept\n            break\n")


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    [
        ("off_by_one", "def f(n):\n    return list(range(n))\n", "range(n - 1)"),
        ("off_by_one", "def f(xs):\n    return xs[1:]\n", "xs[0:]"),
        ("comparison_flip", "def f(a, b):\n    return a < b\n", "a <= b"),
        ("wrong_operator", "def f(a, b):\n    return a + b\n", "a - b"),
        ("swapped_args", "def f(a, b):\n    return g(a, b)\n", "g(b, a)"),
        ("missing_return", "def f(a):\n    b = a * 2\n    return b\n", "b = a * 2\n"),
        ("inverted_condition", "def f(a):\n    if a == 1:\n        return 0\n    return 1\n", "if a != 1:"),
        ("dropped_not", "def f(a):\n    return not a\n", "return a\n"),
        ("wrong_default", "def f(a, strict=True):\n    return a\n", "strict=False"),
        ("wrong_dict_key", "def f(d):\n    return d['x'] + d['y']\n", "d['y'] + d['y']"),
        (
            "accumulator_reset",
            "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n",
            "t = x",
        ),
        ("wrong_boolean", "def f(a, b):\n    return a and b\n", "a or b"),
        ("wrong_builtin", "def f(xs):\n    return min(xs)\n", "max(xs)"),
        ("wrong_constant", "def f(a):\n    return a * 3\n", "a * 4"),
        ("wrong_variable", "def f(a, b):\n    return a * 2\n", "b * 2"),
        ("early_break", "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n", "break"),
    ],
)
def test_each_injector_makes_its_bug(kind: str, source: str, expected: str) -> None:
    texts = []
    count = sum(1 for _ in KINDS[kind](ast.parse(source).body[0], ast.parse(source)))
    for index in range(count):  # each candidate on a fresh parse: applying one edits its tree
        tree = ast.parse(source)
        mutation = list(KINDS[kind](tree.body[0], tree))[index]
        texts.append(apply(source, tree, mutation))
    assert any(text is not None and text != source and expected in text for text in texts), texts


def test_plant_is_a_single_local_change() -> None:
    program = render(TEMPLATES["matrix_ops"], random.Random(2))
    site = next(s for s in find_sites(program, ["comparison_flip"], lambda _: True))
    buggy = plant(program, site)
    assert buggy is not None and len(changed_lines(program.files[site.path], buggy)) == 2


def test_without_tests_removes_only_the_named_tests() -> None:
    tests = {
        "tests/test_a.py": "import x\n\n\ndef test_one():\n    pass\n\n\ndef test_two():\n    pass\n",
        "tests/test_b.py": "def test_three():\n    pass\n",
    }
    kept = _without_tests(tests, {"tests/test_a.py::test_one", "tests/test_b.py::test_three"})
    assert kept == {"tests/test_a.py": "import x\n\n\ndef test_two():\n    pass\n"}


def test_probe_reports_what_the_user_sees(tmp_path: Path) -> None:
    write_files(tmp_path, {"calc/__init__.py": "", "calc/ops.py": "def double(x):\n    return x * 3\n"})
    test = (
        "from calc.ops import double\n\n\ndef test_double():\n    value = 2\n"
        "    assert double(1) == 3\n    assert double(value) == 4\n"
    )
    symptom = observe(tmp_path, test, "test_double")
    assert (symptom.actual, symptom.expected) == ("6", "4")
    assert symptom.snippet == "from calc.ops import double\nvalue = 2\nprint(double(value))"
    assert symptom.expression == "double(value)"


def test_probe_reports_exceptions(tmp_path: Path) -> None:
    write_files(tmp_path, {"calc/__init__.py": "", "calc/ops.py": "def half(x):\n    return x / 0\n"})
    test = "import pytest\nfrom calc.ops import half\n\n\ndef test_half():\n    assert half(4) == pytest.approx(2)\n"
    symptom = observe(tmp_path, test, "test_half")
    assert symptom.error == "ZeroDivisionError: division by zero" and symptom.expected is None
    assert "pytest" not in symptom.snippet


def test_probe_snippet_defines_the_module_constants_it_uses(tmp_path: Path) -> None:
    """Regression: constants of the test module were missing, so every probe reported a NameError."""
    write_files(tmp_path, {"calc/__init__.py": "", "calc/ops.py": "def total(xs):\n    return sum(xs[1:])\n"})
    test = (
        "from calc.ops import total\n\nUNUSED = [0]\nSAMPLE = [\n    1,\n    2,\n]\n\n\n"
        "def test_total():\n    assert total(SAMPLE) == 3\n"
    )
    symptom = observe(tmp_path, test, "test_total")
    assert (symptom.actual, symptom.expected, symptom.error) == ("2", "3", None)
    assert (
        symptom.snippet == "from calc.ops import total\nSAMPLE = [\n    1,\n    2,\n]\nprint(total(SAMPLE))"
    )
