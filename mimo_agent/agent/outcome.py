"""Every way a run ends is one typed outcome; stopping is signalled by raising `RunStopped`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class OutcomeKind(StrEnum):
    FINISHED = "finished"  # the model called `finish`
    BUDGET_EXHAUSTED = "budget_exhausted"  # steps, tokens or wall time
    INVALID_CALLS = "invalid_calls"  # too many invalid tool calls in a row
    LOOP_DETECTED = "loop_detected"  # repeated calls went on after a nudge
    INTERRUPTED = "interrupted"  # the user (Ctrl-C, Esc)
    ERROR = "error"  # backend or environment failure


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message: str
    summary: str | None = None  # the model's own summary when it finished
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "summary": self.summary,
            "detail": self.detail,
        }


class RunStopped(Exception):
    """Raised anywhere inside a step to end the run with `outcome`."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome
