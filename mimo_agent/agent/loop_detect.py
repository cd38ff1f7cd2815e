"""Notices an agent going round in circles: the same call again and again, or a short cycle of calls.

The first detection asks for a nudge (a message telling the model to change approach); a detection
after a nudge stops the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class LoopVerdict(Enum):
    OK = "ok"
    NUDGE = "nudge"
    STOP = "stop"


def call_signature(name: str, arguments: dict[str, Any]) -> str:
    return name + json.dumps(arguments, sort_keys=True, ensure_ascii=False)


@dataclass
class LoopDetector:
    repeats: int = 3  # how many times a call (or a cycle) must recur in a row
    max_period: int = 3  # longest cycle of distinct calls looked for
    history: list[str] = field(default_factory=list)
    nudged: bool = False

    def observe(self, signature: str) -> LoopVerdict:
        self.history.append(signature)
        if not self._looping():
            return LoopVerdict.OK
        if self.nudged:
            return LoopVerdict.STOP
        self.nudged = True
        self.history.clear()  # give the model a fresh window after the nudge
        return LoopVerdict.NUDGE

    def _looping(self) -> bool:
        for period in range(1, self.max_period + 1):
            window = period * self.repeats
            if len(self.history) < window:
                return False
            tail = self.history[-window:]
            cycle = tail[:period]
            if len(set(cycle)) == period and all(tail[i] == cycle[i % period] for i in range(window)):
                return True
        return False


NUDGE_TEXT = (
    "You have made the same tool call(s) several times in a row with the same result. Repeating them will "
    "not change the outcome. Step back, re-read the task and the last observations, and try a different "
    "approach (or call `finish` if the task is done)."
)
