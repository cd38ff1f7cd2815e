"""The record of a run: every message, call, repair, observation, timing and token count, secrets redacted.

Persisting must cost what is new, not the whole history, after every step. So during a run `flush()`
appends the new records to `<path>.partial.jsonl`; at the end `save()` writes the complete
`mimo-agent-trajectory/1` JSON (atomically: temp file + rename) and removes the partial file. The run's
`finally` saves it, so Ctrl-C leaves a complete trajectory; after a hard crash the partial file holds
everything up to the last finished step.

Partial records, one JSON object a line: `{"kind": "start", "info", "events", "messages"}` first, then
`{"kind": "event", "event"}`, `{"kind": "message", "message"}`, and `{"kind": "reset", "messages"}` when
the history was rewritten (compaction, undo), as in session files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mimo_agent.agent.events import Event
from mimo_agent.backends.base import Message
from mimo_agent.backends.history import HistoryTracker
from mimo_agent.redact import Redactor

FORMAT = "mimo-agent-trajectory/1"
PARTIAL_SUFFIX = ".partial.jsonl"


class Trajectory:
    def __init__(self, path: Path | None, info: dict[str, Any], redactor: Redactor | None = None) -> None:
        self.path = path
        self.outcome: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []  # redacted as they arrive
        self._redact = redactor or Redactor()
        self.info = self._redact.value(info)
        self._messages: list[dict[str, Any]] = []  # redacted copies of the run's history
        self._history = HistoryTracker()
        self._pending: list[dict[str, Any]] = []  # partial records not yet flushed
        self._partial_started = False

    @property
    def partial_path(self) -> Path | None:
        return None if self.path is None else self.path.with_name(self.path.name + PARTIAL_SUFFIX)

    def set_info(self, info: dict[str, Any]) -> None:
        self.info = self._redact.value(info)
        self._partial_started = False  # a new run: its partial file starts over with everything so far

    def add(self, event: Event) -> dict[str, Any]:
        record = self._redact.value(event.to_json())
        self.events.append(record)
        self._pending.append({"kind": "event", "event": record})
        return record

    def sync(self, messages: Sequence[Message]) -> None:
        """Take in the history; only messages new since the last sync are redacted."""
        kept = self._history.update(messages)
        appended = kept == len(self._messages)
        del self._messages[kept:]
        new = [self._redact.value(m) for m in messages[kept:]]
        self._messages.extend(new)
        if appended:
            self._pending.extend({"kind": "message", "message": m} for m in new)
        else:
            self._pending.append({"kind": "reset", "messages": list(self._messages)})

    def flush(self) -> None:
        """Append what is new since the last flush to the partial file."""
        partial = self.partial_path
        if partial is None:
            self._pending.clear()
            return
        if not self._partial_started:
            start = {"kind": "start", "info": self.info, "events": self.events, "messages": self._messages}
            records, mode = [start], "w"
        else:
            records, mode = self._pending, "a"
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open(mode, encoding="utf-8") as fh:
            fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        self._pending.clear()
        self._partial_started = True

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "info": self.info,
            "messages": self._messages,
            "events": self.events,
            "outcome": self.outcome,
        }

    def save(self) -> None:
        """Write the complete trajectory and drop the partial file."""
        self._pending.clear()
        self._partial_started = False
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)
        partial = self.partial_path
        assert partial is not None
        partial.unlink(missing_ok=True)
