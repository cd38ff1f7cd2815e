"""Textual messages from the agent's worker thread to the screen (posted with the thread-safe post_message)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from mimo_agent.agent import events as ev
from mimo_agent.agent.loop import AgentRun
from mimo_agent.backends.base import Message as ChatMessage
from mimo_agent.tui.bridge import PermissionRequest


@dataclass
class AgentEvent(Message):
    event: ev.Event


@dataclass
class PermissionAsked(Message):
    request: PermissionRequest


@dataclass
class SessionOpened(Message):
    history: list[ChatMessage]
    files: list[str]
    context_tokens: int


@dataclass
class TurnEnded(Message):
    run: AgentRun | None
    error: str | None = None


@dataclass
class WorkDone(Message):
    """Work a slash command or the start-up did in a thread finished; `text` is its report."""

    command: str
    text: str
    error: bool = False
    context_tokens: int | None = None
