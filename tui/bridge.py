"""The agent side of the UI: hooks the agent's worker thread calls, which never touch a widget.

Events go to the UI through a thread-safe `post` callable; a permission question is a request carrying
a `concurrent.futures.Future` that blocks the worker until the UI resolves it. Interrupts are raised at
the two points where the conversation is consistent: before a model call and while the model streams
(nothing of that step is in the history yet).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.outcome import Outcome, OutcomeKind, RunStopped
from mimo_agent.agent.permissions import Check, Decision

INTERRUPTED = "interrupted by the user (Esc)"
ANSWERED = "the assistant answered"


@dataclass
class PermissionRequest:
    name: str
    arguments: dict[str, Any]
    reason: str
    future: Future[Decision] = field(default_factory=Future)

    def answer(self, decision: Decision) -> None:
        if not self.future.done():
            self.future.set_result(decision)


class TurnControl:
    """Forwards events to the UI and ends the turn at a safe point when asked.

    In a chat an answer without a tool call ends the turn (the loop would otherwise remind the model to
    act); that is detected from the loop's `no_tool_call` notice, after the answer is in the history.
    """

    def __init__(self, post: Callable[[ev.Event], None]) -> None:
        self._post = post
        self.cancel = threading.Event()
        self.partial = ""  # what the model streamed in the current step, kept when interrupted

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.StepStarted):
            self.partial = ""
        elif isinstance(event, ev.AssistantDelta):
            self.partial += event.text
        elif isinstance(event, ev.AssistantMessage):
            self.partial = ""
        if isinstance(event, ev.Notice) and event.kind == "no_tool_call":
            raise RunStopped(Outcome(OutcomeKind.FINISHED, ANSWERED))
        self._post(event)
        if self.cancel.is_set() and isinstance(event, ev.StepStarted | ev.AssistantDelta):
            raise RunStopped(Outcome(OutcomeKind.INTERRUPTED, INTERRUPTED))


class TuiApprover:
    """Asks the user through the UI and blocks the agent's thread until the answer comes back."""

    def __init__(self, ask: Callable[[PermissionRequest], None], cancel: threading.Event) -> None:
        self._ask = ask
        self._cancel = cancel
        self._pending: list[PermissionRequest] = []
        self._lock = threading.Lock()

    def decide(self, name: str, arguments: dict[str, Any], check: Check) -> Decision:
        if self._cancel.is_set():
            return Decision(False, "the user interrupted this turn")
        request = PermissionRequest(name, arguments, check.reason)
        with self._lock:
            self._pending.append(request)
        self._ask(request)
        try:
            return request.future.result()
        finally:
            with self._lock:
                self._pending.remove(request)

    def refuse_pending(self, reason: str) -> None:
        """Answer every open question with a denial (on interrupt and on exit, so no thread hangs)."""
        with self._lock:
            pending = list(self._pending)
        for request in pending:
            request.answer(Decision(False, reason))
