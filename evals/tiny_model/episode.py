"""One expert episode: a task's repository copied to a scratch workspace, solved through the real agent
loop (real tools, parser and permissions), then graded the way SWE-bench grades it.

The grade applies the instance's `test_patch` (the FAIL_TO_PASS tests the agent never saw) on top of
the agent's work and runs the spec's test command: every FAIL_TO_PASS and PASS_TO_PASS test must pass.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import RunRequest, prepare_run
from mimo_agent.evals.tasks.runner import run_test_cmd
from mimo_agent.evals.tiny_model.agent_profile import agent_flags
from mimo_agent.evals.tiny_model.expert import ExpertBackend
from mimo_agent.evals.tiny_model.gold import gold_edits
from mimo_agent.evals.tiny_model.solver import Case, Solver

FLAGS = {**agent_flags(), "permissions": {"mode": "yolo"}, "budgets": {"max_steps": 30}}
PASSED = "PASSED"
GIT_TIMEOUT = 60.0


@dataclass
class CallCounts:
    """How the loop's parser took the expert's calls: all must be valid with no repair."""

    parsed: int = 0
    repaired: int = 0
    invalid: int = 0
    turns_without_call: int = 0

    def add(self, other: CallCounts) -> None:
        self.parsed += other.parsed
        self.repaired += other.repaired
        self.invalid += other.invalid
        self.turns_without_call += other.turns_without_call


@dataclass
class Episode:
    instance_id: str
    messages: list[dict[str, Any]]
    outputs: list[str]  # the expert's raw assistant outputs, in order
    tools: list[dict[str, Any]]  # OpenAI-style, as the agent offered them
    patch: str
    outcome: str
    resolved: bool
    failure: str  # why it is not usable ("" when resolved)
    seconds: float
    calls: CallCounts = field(default_factory=CallCounts)


def load_case(instance: dict[str, Any], repo: Path) -> Case:
    files = {
        path.relative_to(repo).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(repo.rglob("*.py"))
        if ".git" not in path.relative_to(repo).parts
    }
    return Case(instance["problem_statement"], files, gold_edits(instance["patch"], files))


def run_episode(
    instance: dict[str, Any], spec: dict[str, Any], tasks_dir: Path, work_dir: Path, rng: random.Random
) -> Episode:
    """Solve `instance` in `work_dir/<repo name>` (replaced if present) and grade the result."""
    source = tasks_dir / spec["source"]["path"]
    workspace = work_dir / instance["repo"].rsplit("/", 1)[-1]
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.copytree(source, workspace)
    backend = ExpertBackend(Solver(load_case(instance, source), rng).script())
    calls = CallCounts()
    request = RunRequest(
        workspace=workspace,
        task=instance["problem_statement"],
        flags=FLAGS,
        environ={"XDG_CONFIG_HOME": str(work_dir / "no-user-config")},
        shell_env=tool_environment(),
    )
    started = time.monotonic()
    prepared = prepare_run(request, on_event=lambda event: _count(event, calls), backend=backend)
    try:
        run = prepared.agent.run(request.task, base_commit=prepared.base_commit)
    finally:
        prepared.close()
    patch = prepared.repo.diff(prepared.base_commit)
    failure = (
        "" if run.outcome.kind is OutcomeKind.FINISHED else f"{run.outcome.kind.value}: {run.outcome.message}"
    )
    if not failure:
        failure = grade(instance, spec, workspace)
    return Episode(
        instance_id=instance["instance_id"],
        messages=stable_call_ids(run.messages),
        outputs=backend.outputs,
        tools=[tool.to_openai() for tool in prepared.agent.tools],
        patch=patch,
        outcome=run.outcome.kind.value,
        resolved=not failure,
        failure=failure,
        seconds=round(time.monotonic() - started, 3),
        calls=calls,
    )


def tool_environment() -> dict[str, str]:
    """The shell's environment: `python` is this interpreter (which has pytest); no inherited pytest options."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTEST_ADDOPTS", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def grade(instance: dict[str, Any], spec: dict[str, Any], workspace: Path) -> str:
    """ "" when the hidden tests pass on the agent's work, else what failed (the workspace is scratch)."""
    applied = subprocess.run(
        ["git", "apply", "-"],
        cwd=workspace,
        input=instance["test_patch"],
        text=True,
        capture_output=True,
        timeout=GIT_TIMEOUT,
    )
    if applied.returncode != 0:
        return f"test_patch does not apply: {applied.stderr.strip()}"
    statuses, outcome = run_test_cmd(workspace, spec["test_cmd"])
    wanted = json.loads(instance["FAIL_TO_PASS"]) + json.loads(instance["PASS_TO_PASS"])
    failing = [test for test in wanted if statuses.get(test) != PASSED]
    if outcome.timed_out or failing:
        return f"hidden tests fail: {', '.join(failing) or 'timeout'}"
    return ""


def stable_call_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation with the loop's random call ids replaced by `call_1`, `call_2`, … (not rendered)."""
    renamed: dict[str, str] = {}
    result = []
    for message in messages:
        message = dict(message)
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                renamed[call["id"]] = f"call_{len(renamed) + 1}"
                calls.append({**call, "id": renamed[call["id"]]})
            message["tool_calls"] = calls
        if "tool_call_id" in message:
            message["tool_call_id"] = renamed.get(message["tool_call_id"], message["tool_call_id"])
        result.append(message)
    return result


def _count(event: ev.Event, calls: CallCounts) -> None:
    if isinstance(event, ev.ToolCallParsed):
        calls.parsed += 1
        calls.repaired += bool(event.repairs)
    elif isinstance(event, ev.ToolCallInvalid):
        calls.invalid += 1
    elif isinstance(event, ev.Notice) and event.kind == "no_tool_call":
        calls.turns_without_call += 1
