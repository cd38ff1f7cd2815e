"""The agent side of the UI: hooks the agent's worker thread calls, which never touch a widget.

Events go to the UI through a thread-safe `post` callable; a permission question is a request carrying
a `concurrent.futures.Future` that blocks the worker until the UI resolves it. An interrupt (Esc) sets the
run's cancellation token: the loop, the backend and bash stop at the next point where the history is
consistent, and the partial answer is kept in it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.loop import ANSWERED
from mimo_agent.agent.permissions import Check, Decision

__all__ = [
    "ANSWERED",
    "PermissionRequest",
    "TuiApprover",
    "TurnControl",
]  # ANSWERED: the screen reads it here


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
    """Forwards the agent's events to the UI and holds the run's cancellation token (Esc sets it)."""

    def __init__(self, post: Callable[[ev.Event], None]) -> None:
        self._post = post
        self.cancel = threading.Event()

    def on_event(self, event: ev.Event) -> None:
        self._post(event)


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
