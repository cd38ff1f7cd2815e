"""The record of a run: every message, call, repair, observation, timing and token count, secrets redacted.

Rewritten whole after every step (atomically: temp file + rename) so a crash or Ctrl-C leaves the last
complete state on disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mimo_agent.agent.events import Event
from mimo_agent.redact import Redactor

FORMAT = "mimo-agent-trajectory/1"


class Trajectory:
    def __init__(self, path: Path | None, info: dict[str, Any], redactor: Redactor | None = None) -> None:
        self.path = path
        self.info = info
        self.events: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.outcome: dict[str, Any] | None = None
        self._redact = redactor or Redactor()

    def add(self, event: Event) -> dict[str, Any]:
        record = self._redact.value(event.to_json())
        self.events.append(record)
        return record

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "info": self._redact.value(self.info),
            "messages": self._redact.value(self.messages),
            "events": self.events,
            "outcome": self.outcome,
        }

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
