"""Assembles one agent run from settings: backend, tools, permissions, trajectory, session.

Drivers (fix-issue, the TUI, the SWE-bench harness) describe what they want in a `RunRequest`;
`prepare_run` owns the wiring so each driver stays a thin shell around it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.loop import Agent
from mimo_agent.agent.outcome import Outcome, OutcomeKind
from mimo_agent.agent.permissions import Approver, HeadlessApprover, PermissionPolicy
from mimo_agent.agent.sessions import SessionWriter
from mimo_agent.backends.base import Backend, BackendError, Message, text_counter
from mimo_agent.backends.factory import make_backend
from mimo_agent.settings import Settings, SettingsError, load_settings
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.tools.context import ToolConfig, ToolContext
from mimo_agent.tools.finish import FINISH
from mimo_agent.tools.git import GitRepo
from mimo_agent.tools.registry import default_tools
from mimo_agent.tools.repo_map import REPO_MAP
from mimo_agent.tools.risk import classify
from mimo_agent.tools.state import STATE_DIR, exclude_state_dir


class RunSetupError(Exception):
    """The run cannot start: no such directory, not a git repository, a backend that cannot load."""


@dataclass
class RunRequest:
    workspace: Path
    task: str = ""
    flags: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    trajectory_path: Path | None = None
    session_path: Path | None = None
    history: list[Message] = field(default_factory=list)  # earlier messages when resuming a session
    environ: Mapping[str, str] | None = None  # where settings' environment variables are read (default: os)
    shell_env: Mapping[str, str] | None = None  # the environment the agent's bash starts from (default: os)
    end_turn_on_answer: bool = False  # a chat: an answer without a tool call ends the turn


@dataclass
class PreparedRun:
    agent: Agent
    context: ToolContext
    repo: GitRepo
    base_commit: str
    settings: Settings

    def close(self) -> None:
        self.context.close()


@dataclass
class RunResult:
    outcome: Outcome
    patch: str
    base_commit: str | None
    steps: int = 0


def agent_tools(enabled: Sequence[str] | None = None) -> list[ToolDef]:
    """The tools the model sees, in prompt order: all, or those `enabled` names (plus `finish`).

    A small or specialised model is best offered only the tools it was trained with: every definition
    costs prompt tokens on every step. An unknown name is a SettingsError that lists the known ones.
    """
    tools = default_tools()
    tools = [*tools[:3], REPO_MAP, *tools[3:]]
    if enabled is None:
        return tools
    known = [tool.name for tool in tools]
    unknown = [name for name in enabled if name not in known]
    if unknown:
        raise SettingsError(
            f"tools.enabled: unknown tool(s) {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return [tool for tool in tools if tool.name in enabled or tool.name == FINISH.name]


def default_trajectory_path(workspace: Path) -> Path:
    """Where a headless run keeps its trajectory unless told otherwise: the workspace's state folder."""
    run_id = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    return workspace.resolve() / STATE_DIR / "trajectories" / f"{run_id}.json"


def prepare_run(
    request: RunRequest,
    on_event: Callable[[ev.Event], None] = lambda event: None,
    approver: Approver | None = None,
    backend: Backend | None = None,
    cancel: threading.Event | None = None,
) -> PreparedRun:
    """Everything a run needs, checked up front; raises RunSetupError or SettingsError with a clear message.

    `cancel` is the run's interrupt: setting it stops the model, bash and the loop at a consistent point.
    """
    workspace = request.workspace.resolve()
    if not workspace.is_dir():
        raise RunSetupError(f"{request.workspace}: no such directory")
    repo = GitRepo.find(workspace)
    base_commit = repo.head() if repo is not None else None
    if repo is None or base_commit is None:
        raise RunSetupError(f"{workspace}: not a git repository with at least one commit")
    settings = load_settings(workspace, flags=request.flags, environ=request.environ).settings
    if backend is None:
        try:
            backend = make_backend(settings.model)
        except BackendError as exc:
            raise RunSetupError(str(exc)) from exc
    cancel = cancel or threading.Event()
    context = ToolContext.create(
        workspace,
        config=ToolConfig(
            bash_timeout=settings.tools.bash_timeout, max_output_chars=settings.tools.max_output_chars
        ),
        base_env=request.shell_env,
        cancel=cancel,
        count_tokens=text_counter(backend),
    )
    trajectory = request.trajectory_path
    if trajectory is not None and trajectory.resolve().is_relative_to(workspace / STATE_DIR):
        exclude_state_dir(workspace)  # never part of the patch
    session = None
    if request.session_path is not None:
        session = SessionWriter(request.session_path, {"workspace": str(workspace), "backend": backend.name})
    agent = Agent(
        backend=backend,
        tools=agent_tools(settings.tools.enabled),
        tool_context=context,
        workspace=workspace,
        settings=settings,
        permissions=PermissionPolicy(
            settings.permissions, lambda command: classify(command, workspace, cwd=context.shell.cwd)
        ),
        approver=approver or HeadlessApprover(),
        on_event=on_event,
        trajectory_path=request.trajectory_path,
        session=session,
        messages=list(request.history),
        cancel=cancel,
        end_turn_on_answer=request.end_turn_on_answer,
    )
    return PreparedRun(agent, context, repo, base_commit, settings)


def run_headless(
    request: RunRequest,
    on_event: Callable[[ev.Event], None] = lambda event: None,
    approver: Approver | None = None,
    backend: Backend | None = None,
) -> RunResult:
    """Run the agent on `request.workspace` to an outcome and return the patch against the starting commit.

    `backend` lets a caller share one loaded model between runs (the SWE-bench harness); by default the
    settings say which backend to build.
    """
    try:
        prepared = prepare_run(request, on_event, approver, backend)
    except RunSetupError as exc:
        return RunResult(Outcome(OutcomeKind.ERROR, str(exc)), "", None)
    try:
        run = prepared.agent.run(request.task, base_commit=prepared.base_commit)
    finally:
        prepared.close()
    return RunResult(run.outcome, prepared.repo.diff(prepared.base_commit), prepared.base_commit, run.steps)
