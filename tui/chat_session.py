"""One chat session's model-side state: the prepared agent, per-turn checkpoints, undo, diff, compaction.

Everything here runs in the app's thread workers (it calls the model and git); the screen only reads
the results. The agent is wired by `prepare_run`, so the TUI runs exactly what `fix-issue` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.compaction import Compactor
from mimo_agent.agent.loop import AgentRun
from mimo_agent.agent.runner import PreparedRun, RunRequest, prepare_run
from mimo_agent.agent.sessions import (
    Session,
    SessionError,
    SessionWriter,
    latest_session_id,
    load_session,
    new_session_id,
    session_files,
    sessions_dir,
)
from mimo_agent.backends.base import Backend, Message, context_limit
from mimo_agent.settings import PermissionSettings
from mimo_agent.tools.git import Checkpoint
from mimo_agent.tui.bridge import PermissionRequest, TuiApprover, TurnControl

MODES = PermissionSettings.model_fields["mode"].annotation.__args__  # type: ignore[union-attr]


class ChatError(Exception):
    """A chat command that cannot run now (nothing to undo, unknown mode); the message says why."""


@dataclass
class ChatOptions:
    workspace: Path
    flags: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None
    sessions_directory: Path | None = None  # default: sessions_dir() ($XDG_STATE_HOME/mimo-agent/sessions)
    resume: str | None = None  # a session id; "" reopens this workspace's latest
    theme: str = "dark"
    backend: Backend | None = None  # an already built backend (default: from the settings)


@dataclass
class TurnStart:
    checkpoint: Checkpoint
    messages: list[Message]
    text: str


@dataclass
class Usage:
    """Model calls and tokens over the whole session, earlier runs of a resumed one included."""

    steps: int = 0
    tokens: int = 0


@dataclass
class Compaction:
    tokens_before: int
    tokens_after: int
    turns: int


class ChatSession:
    def __init__(
        self,
        options: ChatOptions,
        post_event: Callable[[ev.Event], None],
        ask: Callable[[PermissionRequest], None],
    ) -> None:
        self.options = options
        self.control = TurnControl(post_event)
        self.approver = TuiApprover(ask, self.control.cancel)
        self.prepared: PreparedRun | None = None
        self.session_id = ""
        self.turns: list[TurnStart] = []
        self.usage = Usage()

    # -- lifecycle ---------------------------------------------------------------------------------------
    def open(self) -> list[Message]:
        """Load the backend and the resumed session (slow for a real model); returns the earlier messages."""
        directory = self.options.sessions_directory or sessions_dir(self.options.environ)
        resumed: Session | None = None
        if self.options.resume is not None:
            session_id = self.options.resume or latest_session_id(directory, self.options.workspace)
            if session_id is None:
                raise ChatError(f"no saved sessions of {self.options.workspace} in {directory} to resume")
            resumed = load_session(session_id, directory)
            self.session_id = session_id
            self.usage = Usage(resumed.usage["steps"], resumed.usage["tokens"])
        else:
            self.session_id = new_session_id()
        path = directory / f"{self.session_id}.jsonl"
        request = RunRequest(
            workspace=self.options.workspace,
            flags=self.options.flags,
            environ=self.options.environ,
            session_path=path,  # an existing file is continued, not rewritten
            history=resumed.messages if resumed else [],
            end_turn_on_answer=True,
        )
        self.prepared = prepare_run(
            request,
            on_event=self.control.on_event,
            approver=self.approver,
            backend=self.options.backend,
            cancel=self.control.cancel,
        )
        return list(self.prepared.agent.messages)

    def close(self) -> None:
        self.control.cancel.set()
        self.approver.refuse_pending("the user closed mimo-agent")
        if self.prepared is not None:
            self.prepared.close()

    @property
    def run(self) -> PreparedRun:
        if self.prepared is None:
            raise ChatError("the model is still loading")
        return self.prepared

    # -- turns -------------------------------------------------------------------------------------------
    def run_turn(self, text: str, display: str | None = None) -> AgentRun:
        """One user turn to its outcome; a checkpoint first so /undo can put the files back."""
        prepared = self.run
        agent = prepared.agent
        self.turns.append(
            TurnStart(prepared.repo.checkpoint("before turn"), list(agent.messages), display or text)
        )
        self.control.cancel.clear()
        run = agent.run(text, base_commit=prepared.base_commit)
        self.usage.steps += run.steps
        self.usage.tokens += run.prompt_tokens + run.completion_tokens
        if agent.session is not None:
            agent.session.record_usage(self.usage.steps, self.usage.tokens)
        return run

    def interrupt(self) -> None:
        """Stop the turn (model, bash, loop) at the next consistent point; the partial answer is kept."""
        self.control.cancel.set()
        self.approver.refuse_pending("the user interrupted this turn (Esc)")

    def undo(self) -> tuple[TurnStart, list[str]]:
        """Files back as they were before the last turn (other uncommitted work untouched), history too."""
        if not self.turns:
            raise ChatError("nothing to undo in this session")
        turn = self.turns.pop()
        restored = self.run.repo.undo(turn.checkpoint)
        self.run.agent.messages[:] = turn.messages
        self._sync()
        return turn, restored

    def diff(self) -> str:
        return self.run.repo.diff(self.run.base_commit)

    def compact(self) -> Compaction:
        agent = self.run.agent
        settings = self.run.settings
        before = agent.backend.count_tokens(agent.messages, agent.tools)
        compactor = Compactor(settings.context, settings.model, context_limit(agent.backend))
        turns = compactor.compact(agent.messages, agent.backend, agent.tools)
        self._sync()
        return Compaction(before, agent.backend.count_tokens(agent.messages, agent.tools), turns)

    def clear(self) -> str:
        """A fresh conversation in a new session file; returns its id."""
        agent = self.run.agent
        agent.messages.clear()
        self.turns.clear()
        self.usage = Usage()
        self.session_id = new_session_id()
        directory = self.options.sessions_directory or sessions_dir(self.options.environ)
        agent.session = SessionWriter(
            directory / f"{self.session_id}.jsonl",
            {"workspace": str(agent.workspace), "backend": agent.backend.name},
        )
        return self.session_id

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ChatError(f"unknown permission mode {mode!r}; choose one of: {', '.join(MODES)}")
        self.run.agent.permissions.settings.mode = mode

    def context_tokens(self) -> int:
        agent = self.run.agent
        return agent.backend.count_tokens(agent.messages, agent.tools) if agent.messages else 0

    def _sync(self) -> None:
        session = self.run.agent.session
        if session is not None:
            session.sync(self.run.agent.messages)


@dataclass(frozen=True)
class SessionInfo:
    id: str
    first_message: str
    messages: int


def recent_sessions(directory: Path, limit: int = 10, workspace: Path | None = None) -> list[SessionInfo]:
    """The newest sessions first (only `workspace`'s when given), each with the start of its first user message."""
    files = session_files(directory, workspace)[:limit]
    found = []
    for path in files:
        try:
            session = load_session(path.stem, directory)
        except SessionError:
            continue
        first = next((str(m.get("content", "")) for m in session.messages if m.get("role") == "user"), "")
        found.append(
            SessionInfo(
                path.stem, first.strip().splitlines()[0][:60] if first.strip() else "", len(session.messages)
            )
        )
    return found
