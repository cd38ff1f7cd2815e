"""Re-verify a generated instance the way a grader sees it: `git apply` the patches in a copy, run its tests.

With only `test_patch` applied every FAIL_TO_PASS test must fail and every PASS_TO_PASS test pass; with
`patch` applied as well, all of them must pass.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mimo_agent.evals.tasks.runner import run_test_cmd

PASSED = "PASSED"


@dataclass(frozen=True)
class CheckResult:
    instance_id: str
    passing_before: list[str]
    failing_before: list[str]
    failing_after: list[str]

    @property
    def ok(self) -> bool:
        return not self.passing_before and not self.failing_before and not self.failing_after


def check_instance(instance: dict, spec: dict, specs_dir: Path) -> CheckResult:
    """`passing_before`: FAIL_TO_PASS tests that pass unfixed; the other lists name tests that fail."""
    fail_to_pass = json.loads(instance["FAIL_TO_PASS"])
    pass_to_pass = json.loads(instance["PASS_TO_PASS"])
    with tempfile.TemporaryDirectory(prefix="mimo-check-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(Path(specs_dir) / spec["source"]["path"], repo)
        _apply(repo, instance["test_patch"])
        before, _ = run_test_cmd(repo, spec["test_cmd"])
        _apply(repo, instance["patch"])
        after, _ = run_test_cmd(repo, spec["test_cmd"])
    return CheckResult(
        instance["instance_id"],
        passing_before=[t for t in fail_to_pass if before.get(t) == PASSED],
        failing_before=[t for t in pass_to_pass if before.get(t) != PASSED],
        failing_after=[t for t in fail_to_pass + pass_to_pass if after.get(t) != PASSED],
    )


def _apply(repo: Path, patch: str) -> None:
    subprocess.run(["git", "apply", "-"], cwd=repo, input=patch, text=True, check=True, timeout=60)
