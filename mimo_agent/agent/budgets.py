"""Run limits, checked before every model call (steps, tokens, wall time, invalid calls in a row)."""

from __future__ import annotations

import time
from collections.abc import Callable

from mimo_agent.agent.outcome import Outcome, OutcomeKind, RunStopped
from mimo_agent.settings import BudgetSettings


class BudgetTracker:
    def __init__(self, limits: BudgetSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._started = clock()
        self.steps = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.invalid_streak = 0

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def check(self) -> None:
        """Raise `RunStopped` when any limit is reached; called before each model call."""
        lim = self.limits
        for name, used, limit in (
            ("steps", self.steps, lim.max_steps),
            ("tokens", self.total_tokens, lim.max_tokens),
            ("wall_seconds", self.elapsed, lim.max_wall_seconds),
        ):
            if used >= limit:
                raise RunStopped(
                    Outcome(
                        OutcomeKind.BUDGET_EXHAUSTED,
                        f"{name} budget exhausted ({used:.6g} of {limit:.6g})",
                        detail={"budget": name, "used": used, "limit": limit},
                    )
                )
        if self.invalid_streak >= lim.max_consecutive_invalid:
            raise RunStopped(
                Outcome(
                    OutcomeKind.INVALID_CALLS,
                    f"{self.invalid_streak} invalid tool calls in a row",
                    detail={"limit": lim.max_consecutive_invalid},
                )
            )

    def record_model_call(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.steps += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    def record_calls(self, valid: bool) -> None:
        self.invalid_streak = 0 if valid else self.invalid_streak + 1
