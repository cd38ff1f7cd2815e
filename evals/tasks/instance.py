"""Turn a verified task into a SWE-bench instance (the dataset's 12 fields), its repository and its spec.

As in SWE-bench, the tests that detect the bug are not in the repository: the base commit holds the
buggy code and the tests that pass on it, `test_patch` adds the FAIL_TO_PASS tests back and `patch` (the
gold fix) reverts the bug.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from mimo_agent.evals.tasks.repo import create_repo, diff_to, support_files
from mimo_agent.evals.tasks.runner import pytest_command
from mimo_agent.evals.tasks.search import Task

VERSION = "0.1"


def materialise(
    task: Task, instance_id: str, out_dir: Path, created_at: str, pip_install: tuple[str, ...] = ()
) -> tuple[dict, dict]:
    """Write the repository under `out_dir/repos/` and return (instance, spec)."""
    program = task.program
    tests = _without_tests(program.tests, set(task.fail_to_pass))
    base = {**support_files(program.package), **program.sources, task.site.path: task.buggy, **tests}
    relative = Path("repos") / instance_id
    root = out_dir / relative
    commit = create_repo(root, base, created_at, f"{program.package}: release {VERSION}")
    patch = diff_to(root, {task.site.path: program.files[task.site.path]}, created_at)
    test_patch = diff_to(root, program.tests, created_at)
    instance = {
        "repo": f"mimo-tasks/{program.template}",
        "instance_id": instance_id,
        "base_commit": commit,
        "patch": patch,
        "test_patch": test_patch,
        "problem_statement": task.problem_statement,
        "hints_text": "",
        "created_at": created_at,
        "version": VERSION,
        "FAIL_TO_PASS": json.dumps(task.fail_to_pass),
        "PASS_TO_PASS": json.dumps(task.pass_to_pass),
        "environment_setup_commit": commit,
    }
    spec = {
        "source": {"type": "path", "path": relative.as_posix()},
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "pip_install": list(pip_install),
        "install": "",
        "test_cmd": " ".join(pytest_command(sorted(program.tests))),
        "log_parser": "parse_log_pytest",
    }
    return instance, spec


def _without_tests(tests: dict[str, str], node_ids: set[str]) -> dict[str, str]:
    """Test files with the given tests removed; a file left without tests is left out."""
    kept: dict[str, str] = {}
    for path, text in tests.items():
        tree = ast.parse(text)
        lines = text.splitlines(keepends=True)
        doomed = [n for n in tree.body if isinstance(n, ast.FunctionDef) and f"{path}::{n.name}" in node_ids]
        survivors = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
        if len(doomed) == len(survivors):
            continue
        for node in sorted(doomed, key=lambda n: n.lineno, reverse=True):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            end = node.end_lineno
            while end < len(lines) and not lines[end].strip():
                end += 1
            del lines[start:end]
        kept[path] = "".join(lines).rstrip("\n") + "\n"
    return kept
