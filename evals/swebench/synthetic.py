"""Synthetic SWE-bench instances: a tiny buggy package, its tests, a gold patch and a test patch.

Used by the tests and by `bench_swebench_workers`. Patches are made by git from real edits, so they are
exactly what a dataset would hold. The specs use a `path` source and the current interpreter; pytest
reaches the instance venv through `python_startup` (a path appended to sys.path) instead of a pip
install, which keeps an environment build under a second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
SOURCE = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
FIXED = SOURCE.replace("a - b", "a + b")
TESTS = "from calc.ops import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
NEW_TEST = "\n\ndef test_add():\n    assert add(2, 3) == 5\n"
# Leaves its pid in the instance's log folder (TMPDIR is LOG_DIR/tmp) so tests can check it was killed.
HANG_TEST = """

def test_add():
    import os, pathlib, time
    pathlib.Path(os.environ["TMPDIR"]).parent.joinpath("hang.pid").write_text(str(os.getpid()))
    time.sleep({seconds})
    assert add(2, 3) == 5
"""
BAD_PATCH = """diff --git a/calc/ops.py b/calc/ops.py
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a ** b
+    return a + b
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_instance(
    root: Path, instance_id: str, hang_seconds: int = 0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A dataset row and its spec; with `hang_seconds` the new test sleeps that long before asserting."""
    repo = root / "sources" / instance_id
    (repo / "calc").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "calc" / "__init__.py").write_text("")
    (repo / "calc" / "ops.py").write_text(SOURCE)
    (repo / "tests" / "test_ops.py").write_text(TESTS)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD").strip()
    (repo / "calc" / "ops.py").write_text(FIXED)
    gold = _git(repo, "diff")
    _git(repo, "checkout", "-q", ".")
    new_test = HANG_TEST.format(seconds=hang_seconds) if hang_seconds else NEW_TEST
    (repo / "tests" / "test_ops.py").write_text(TESTS.replace("import mul", "import add, mul") + new_test)
    test_patch = _git(repo, "diff")
    _git(repo, "checkout", "-q", ".")
    row = {
        "repo": "demo/calc",
        "instance_id": instance_id,
        "base_commit": base,
        "patch": gold,
        "test_patch": test_patch,
        "problem_statement": "add() subtracts",
        "hints_text": "",
        "created_at": "2026-01-01T00:00:00Z",
        "version": "1.0",
        "FAIL_TO_PASS": json.dumps(["tests/test_ops.py::test_add"]),
        "PASS_TO_PASS": json.dumps(["tests/test_ops.py::test_mul"]),
        "environment_setup_commit": base,
    }
    spec = {
        "source": {"type": "path", "path": str(repo)},
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "python_startup": f"import sys; sys.path.append({sysconfig.get_paths()['purelib']!r})",
        "test_cmd": "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -rA -p no:cacheprovider tests/test_ops.py",
        "log_parser": "parse_log_pytest",
    }
    return row, spec


def write_suite(
    root: Path, rows: list[dict[str, Any]], specs: dict[str, dict[str, Any]]
) -> tuple[Path, Path]:
    """The dataset as JSONL and the specs file, as a user would pass them."""
    dataset = root / "instances.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    specs_file = root / "specs.json"
    specs_file.write_text(json.dumps(specs, indent=1))
    return dataset, specs_file


def write_predictions(root: Path, patches: dict[str, str], model: str = "demo/model") -> Path:
    path = root / "preds.jsonl"
    path.write_text(
        "".join(
            json.dumps({"instance_id": iid, "model_name_or_path": model, "model_patch": patch}) + "\n"
            for iid, patch in patches.items()
        )
    )
    return path
