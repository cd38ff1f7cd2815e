"""Budgets stop a run with a typed outcome; loop detection nudges first, then stops."""

from __future__ import annotations

import pytest

from mimo_agent.agent.budgets import BudgetTracker
from mimo_agent.agent.loop_detect import LoopDetector, LoopVerdict, call_signature
from mimo_agent.agent.outcome import OutcomeKind, RunStopped
from mimo_agent.settings import BudgetSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("limits", "spend", "budget"),
    [
        (dict(max_steps=2), lambda b, c: [b.record_model_call(1, 1) for _ in range(2)], "steps"),
        (dict(max_tokens=100), lambda b, c: b.record_model_call(60, 40), "tokens"),
        (dict(max_wall_seconds=5.0), lambda b, c: setattr(c, "now", 5.0), "wall_seconds"),
    ],
)
def test_each_budget_stops_the_run(limits, spend, budget) -> None:
    clock = FakeClock()
    tracker = BudgetTracker(BudgetSettings(**limits), clock=clock)
    tracker.check()  # nothing spent yet
    spend(tracker, clock)
    with pytest.raises(RunStopped) as stop:
        tracker.check()
    assert stop.value.outcome.kind is OutcomeKind.BUDGET_EXHAUSTED
    assert stop.value.outcome.detail["budget"] == budget


def test_invalid_streak_resets_on_a_valid_step() -> None:
    tracker = BudgetTracker(BudgetSettings(max_consecutive_invalid=2))
    tracker.record_calls(valid=False)
    tracker.record_calls(valid=True)
    tracker.record_calls(valid=False)
    tracker.check()
    tracker.record_calls(valid=False)
    with pytest.raises(RunStopped) as stop:
        tracker.check()
    assert stop.value.outcome.kind is OutcomeKind.INVALID_CALLS


def test_same_call_repeated_nudges_then_stops() -> None:
    detector = LoopDetector(repeats=3)
    sig = call_signature("bash", {"command": "pytest"})
    assert [detector.observe(sig) for _ in range(3)] == [LoopVerdict.OK, LoopVerdict.OK, LoopVerdict.NUDGE]
    assert [detector.observe(sig) for _ in range(3)] == [LoopVerdict.OK, LoopVerdict.OK, LoopVerdict.STOP]


def test_rotating_set_is_a_loop_but_progress_is_not() -> None:
    a, b = call_signature("read_file", {"path": "a"}), call_signature("bash", {"command": "ls"})
    detector = LoopDetector(repeats=3)
    verdicts = [detector.observe(s) for s in [a, b] * 3]
    assert verdicts[-1] is LoopVerdict.NUDGE and LoopVerdict.NUDGE not in verdicts[:-1]
    fresh = LoopDetector(repeats=3)
    progress = [call_signature("read_file", {"path": str(i)}) for i in range(10)]
    assert all(fresh.observe(s) is LoopVerdict.OK for s in progress)


def test_argument_order_does_not_hide_a_repeat() -> None:
    assert call_signature("f", {"a": 1, "b": 2}) == call_signature("f", {"b": 2, "a": 1})
