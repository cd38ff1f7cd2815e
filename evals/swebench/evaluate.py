"""Grade one prediction locally: the official `run_instance` pipeline with a venv instead of a container.

Fresh repository → model patch (official fallbacks) → reset the files `test_patch` touches → apply
`test_patch` → `eval.sh` (test command between marker lines, exit code recorded) with a timeout →
`test_output.txt` → swebench's own `get_eval_report` → `report.json`. A run that cannot be graded
leaves `error.json` instead (no `report.json`, so a resumed run tries it again), with a kind that says
whether the model (patch did not apply) or the infrastructure (build, timeout, harness) is at fault.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT, TEST_EXIT_CODE, TEST_EXIT_CODE_VAR
from swebench.harness.grading import get_eval_report, get_resolution_status
from swebench.harness.run_evaluation import GIT_APPLY_CMDS
from swebench.types import TestSpec

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.environment import Environment, EnvironmentCache
from mimo_agent.evals.swebench.errors import EnvironmentBuildError
from mimo_agent.evals.swebench.git import git, git_output, reset_clean
from mimo_agent.evals.swebench.predictions import Prediction
from mimo_agent.evals.swebench.process import run_logged
from mimo_agent.evals.swebench.specs import Spec

REPORT = "report.json"
ERROR = "error.json"
TEST_OUTPUT = "test_output.txt"
INSTANCE_LOG = "run_instance.log"
# Error kinds; the infra ones are failures of the environment, not of the model's patch.
PATCH_APPLY_FAILED = "patch_apply_failed"
INFRA_KINDS = ("env_build_failed", "tests_timed_out", "test_patch_failed", "reset_failed", "harness_error")


@dataclass(frozen=True)
class Outcome:
    """What happened to one instance in this run (the files on disk are the record; this feeds progress)."""

    instance_id: str
    status: str  # "resolved", "unresolved", "empty_patch" or "error"
    detail: str  # resolution (RESOLVED_FULL/PARTIAL/NO) or the error kind
    seconds: float
    cached: bool = False  # report.json was already there (resumed run)


class InstanceError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def instance_log_dir(output: Path, run_id: str, prediction: Prediction) -> Path:
    """The official layout: `logs/run_evaluation/RUN_ID/MODEL/INSTANCE_ID`."""
    return output / "logs" / "run_evaluation" / run_id / prediction.model_dir / prediction.instance_id


def evaluate_instance(
    instance: Instance,
    spec: Spec,
    prediction: Prediction,
    cache: EnvironmentCache,
    log_dir: Path,
    timeout: float,
) -> Outcome:
    started = time.monotonic()
    report_path = log_dir / REPORT
    if report_path.is_file():
        try:
            return _outcome(instance.instance_id, json.loads(report_path.read_text()), 0.0, cached=True)
        except json.JSONDecodeError:  # cut short by a kill: grade again
            report_path.unlink()
    if not prediction.skip_patch and not prediction.model_patch:
        return Outcome(instance.instance_id, "empty_patch", "", 0.0)  # not run, as in the official harness
    log_dir.mkdir(parents=True, exist_ok=True)
    for stale in (ERROR, TEST_OUTPUT, INSTANCE_LOG):
        (log_dir / stale).unlink(missing_ok=True)
    try:
        with cache.locked(instance):
            try:
                env = cache.get(instance, spec)
            except EnvironmentBuildError as exc:
                raise InstanceError("env_build_failed", str(exc)) from exc
            try:
                report = _grade(instance, spec, prediction, env, log_dir, timeout)
            finally:
                reset_clean(env.repo, env.prepared_commit, log_dir / INSTANCE_LOG)
                shutil.rmtree(log_dir / "tmp", ignore_errors=True)
    except InstanceError as exc:
        return _error(instance.instance_id, log_dir, exc.kind, str(exc), started)
    except Exception as exc:  # one instance's crash must not end the run; the traceback is kept
        detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        return _error(instance.instance_id, log_dir, "harness_error", detail, started)
    partial = report_path.with_suffix(".partial")
    partial.write_text(json.dumps(report, indent=4))
    partial.replace(report_path)  # atomic: a resumed run never reads half a report
    return _outcome(instance.instance_id, report, time.monotonic() - started)


def _grade(
    instance: Instance, spec: Spec, prediction: Prediction, env: Environment, log_dir: Path, timeout: float
) -> dict:
    log = log_dir / INSTANCE_LOG
    if not reset_clean(env.repo, env.prepared_commit, log):
        raise InstanceError("reset_failed", f"could not reset {env.repo} to {env.prepared_commit}")
    if not prediction.skip_patch:
        patch_file = log_dir / "patch.diff"
        patch_file.write_text(prediction.model_patch or "")
        _apply_model_patch(env, patch_file, log)
    _apply_test_patch(instance, env, log_dir)
    eval_script = log_dir / "eval.sh"
    eval_script.write_text(_eval_script(env.repo, spec.test_cmd))
    output = log_dir / TEST_OUTPUT
    result = run_logged(["bash", str(eval_script)], env.repo, output, timeout, env.variables(log_dir / "tmp"))
    if result.timed_out:
        with open(output, "a") as handle:
            handle.write(f"\n\nTimeout error: {timeout:g} seconds exceeded.\n")
        raise InstanceError("tests_timed_out", f"tests ran longer than {timeout:g} s (killed)")
    report = report_from_log(instance, spec.log_parser, prediction, output)
    entry = report[instance.instance_id]
    entry["test_exit_code"] = result.returncode
    entry["test_seconds"] = round(result.seconds, 2)
    return report


def report_from_log(instance: Instance, log_parser: str, prediction: Prediction, test_output: Path) -> dict:
    """swebench's own verdict on one `test_output.txt`: per-test outcomes plus `resolution`.

    Its rules: PASSED or XFAIL pass; a missing, FAILED or ERROR test fails (a SKIPPED FAIL_TO_PASS too);
    a SKIPPED PASS_TO_PASS still counts as kept, when the log names it (pytest's `-rA` summary names
    no test for a skip, so there it is missing). RESOLVED_FULL needs every test of both lists,
    RESOLVED_PARTIAL some FAIL_TO_PASS and every PASS_TO_PASS; only FULL is `resolved`.
    """
    test_spec = TestSpec(
        instance_id=instance.instance_id,
        image="",
        eval_script_list=[],
        repo=instance.repo,
        version=instance.version,
        FAIL_TO_PASS=list(instance.FAIL_TO_PASS),
        PASS_TO_PASS=list(instance.PASS_TO_PASS),
        log_parser=log_parser,
        eval_type="pass_and_fail",
    )
    pred = {**prediction.to_dict(), "model_patch": prediction.model_patch or ""}
    report = get_eval_report(test_spec, pred, str(test_output), include_tests_status=True)
    entry = report[instance.instance_id]
    entry["resolution"] = (
        get_resolution_status(entry["tests_status"]) if "tests_status" in entry else "RESOLVED_NO"
    )
    return report


def _apply_model_patch(env: Environment, patch_file: Path, log: Path) -> None:
    """The official fallback chain, from a pristine tree each time (a failed --reject leaves debris)."""
    for attempt, command in enumerate(GIT_APPLY_CMDS):
        if attempt and not reset_clean(env.repo, env.prepared_commit, log):
            raise InstanceError("reset_failed", f"could not reset {env.repo} between patch attempts")
        words = command.split()
        args = [*words[1:], str(patch_file)]
        applied = (
            git(env.repo, args, log)
            if words[0] == "git"
            else run_logged([*words, str(patch_file)], env.repo, log, 600)
        )
        if applied.returncode == 0:
            return
    # the chain can leave the patch applied even though every command reported failure
    if git(env.repo, ["apply", "--check", "--reverse", str(patch_file)], log).returncode == 0:
        return
    raise InstanceError(
        PATCH_APPLY_FAILED, f"the model patch does not apply ({', '.join(GIT_APPLY_CMDS)}); see {log}"
    )


def _apply_test_patch(instance: Instance, env: Environment, log_dir: Path) -> None:
    """Reset the files `test_patch` touches to the prepared state, then apply it."""
    log = log_dir / INSTANCE_LOG
    touched = _patched_paths(instance.test_patch)
    listed = (
        git_output(env.repo, ["ls-tree", "-r", "--name-only", env.prepared_commit, "--", *touched])
        if touched
        else ""
    )
    tracked = {path for path in listed.split("\n") if path}
    if (
        tracked
        and git(env.repo, ["checkout", env.prepared_commit, "--", *sorted(tracked)], log).returncode != 0
    ):
        raise InstanceError("test_patch_failed", f"could not reset the test files {sorted(tracked)}")
    for path in set(touched) - tracked:
        (env.repo / path).unlink(missing_ok=True)
    test_patch = log_dir / "test.patch"
    test_patch.write_text(instance.test_patch)
    if git(env.repo, ["apply", "--verbose", str(test_patch)], log).returncode != 0:
        raise InstanceError(
            "test_patch_failed", f"test_patch does not apply to the prepared repository; see {log}"
        )


def _patched_paths(patch: str) -> list[str]:
    """Both sides of every `diff --git a/X b/Y` header (renames touch two paths)."""
    pairs = re.findall(r"^diff --git a/(\S+) b/(\S+)$", patch, re.M)
    return sorted({path for pair in pairs for path in pair})


def _eval_script(repo: Path, test_cmd: str) -> str:
    """The official eval script's test part: markers around the run and the exit code recorded after it."""
    return "\n".join(
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            f"cd {shlex.quote(str(repo))}",
            f"echo '{START_TEST_OUTPUT}'",
            test_cmd,
            f"{TEST_EXIT_CODE_VAR}=$?",
            f"echo '{END_TEST_OUTPUT}'",
            f'echo "{TEST_EXIT_CODE}: ${TEST_EXIT_CODE_VAR}"',
            f"exit ${TEST_EXIT_CODE_VAR}",
            "",
        ]
    )


def _outcome(instance_id: str, report: dict, seconds: float, cached: bool = False) -> Outcome:
    entry = report.get(instance_id, {})
    resolved = bool(entry.get("resolved"))
    return Outcome(
        instance_id, "resolved" if resolved else "unresolved", entry.get("resolution", ""), seconds, cached
    )


def _error(instance_id: str, log_dir: Path, kind: str, message: str, started: float) -> Outcome:
    record = {"instance_id": instance_id, "kind": kind, "infra": kind in INFRA_KINDS, "message": message}
    (log_dir / ERROR).write_text(json.dumps(record, indent=4))
    with open(log_dir / INSTANCE_LOG, "a") as handle:
        handle.write(f"\nERROR ({kind}): {message}\n")
    return Outcome(instance_id, "error", kind, time.monotonic() - started)
