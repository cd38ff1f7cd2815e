"""What a run's trajectory says about the model: calls valid as written, repaired or invalid; decode speed;
MTP accepted length. Read from the saved trajectory, so any run (fix-issue, the harness) can be summarised."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class RunStats:
    steps: int = 0
    calls_valid: int = 0  # parsed and valid with no repair
    calls_repaired: int = 0  # valid after a repair
    calls_invalid: int = 0
    generated_tokens: int = 0
    decode_seconds: float = 0.0
    speculative_steps: int = 0  # target verify passes
    speculative_tokens: int = 0  # tokens those passes produced

    def add(self, other: RunStats) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def calls(self) -> int:
        return self.calls_valid + self.calls_repaired + self.calls_invalid

    def summary(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "tool_calls": self.calls,
            "valid_call_rate": _ratio(self.calls_valid + self.calls_repaired, self.calls),
            "valid_without_repair_rate": _ratio(self.calls_valid, self.calls),
            "repaired_calls": self.calls_repaired,
            "invalid_calls": self.calls_invalid,
            "generated_tokens": self.generated_tokens,
            "decode_tokens_per_second": _ratio(self.generated_tokens, self.decode_seconds, 1),
            "mtp_accepted_length": _ratio(self.speculative_tokens, self.speculative_steps),
        }


def _ratio(part: float, whole: float, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def stats_from_events(events: Iterable[dict[str, Any]]) -> RunStats:
    stats = RunStats()
    for event in events:
        kind, payload = event["type"], event["payload"]
        if kind == "assistant_message":
            stats.steps += 1
            numbers = payload.get("stats") or {}
            stats.generated_tokens += numbers.get("generated_tokens", 0)
            stats.decode_seconds += numbers.get("decode_seconds", 0.0)
            speculation = numbers.get("speculation") or {}
            histogram = speculation.get("accepted_length_histogram") or {}  # tokens per verify -> count
            stats.speculative_steps += sum(histogram.values())
            stats.speculative_tokens += sum(int(n) * count for n, count in histogram.items())
        elif kind == "tool_call":
            if payload.get("repairs"):
                stats.calls_repaired += 1
            else:
                stats.calls_valid += 1
        elif kind == "tool_call_invalid":
            stats.calls_invalid += 1
    return stats


def stats_from_trajectory(path: Path) -> RunStats:
    return stats_from_events(json.loads(path.read_text(encoding="utf-8"))["events"])
