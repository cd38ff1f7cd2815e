"""Sessions saved as they go (JSON Lines, one record per message) and reopened by id.

Records: `{"kind": "meta", ...}` first, then `{"kind": "message", "message": {...}}` per appended message,
`{"kind": "reset", "messages": [...]}` when compaction rewrote the history, and `{"kind": "usage",
"steps": N, "tokens": N}` after each turn with the session's totals so far (model calls, prompt plus
completion tokens; the last one counts), so a resumed session's counters continue. Secrets are redacted
before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_agent.backends.base import Message
from mimo_agent.backends.history import HistoryTracker
from mimo_agent.redact import Redactor


class SessionError(Exception):
    """A session id that does not exist, or a session file that cannot be read (the message names it)."""


def sessions_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mimo-agent" / "sessions"


def new_session_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


@dataclass
class Session:
    id: str
    meta: dict[str, Any]
    messages: list[Message] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=lambda: {"steps": 0, "tokens": 0})  # the last usage record


class SessionWriter:
    """Appends the messages added since the last `sync`; a shrunk or rewritten history becomes a reset."""

    def __init__(self, path: Path, meta: dict[str, Any], redactor: Redactor | None = None) -> None:
        """A new file starts with `meta`; an existing one (a resumed session) is continued where it ended."""
        self.path = path
        self._redact = redactor or Redactor()
        self._history = HistoryTracker()
        if path.exists():
            self._history.update(read_session(path).messages)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._append([{"kind": "meta", **meta}])

    def _append(self, records: list[dict[str, Any]]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(self._redact.value(r), ensure_ascii=False) + "\n" for r in records))

    def sync(self, messages: list[Message]) -> None:
        written = len(self._history)
        kept = self._history.update(messages)
        if kept == written:
            records = [{"kind": "message", "message": message} for message in messages[kept:]]
        else:
            records = [{"kind": "reset", "messages": messages}]
        if records:
            self._append(records)

    def record_usage(self, steps: int, tokens: int) -> None:
        """The session's totals so far; a reader keeps the last."""
        self._append([{"kind": "usage", "steps": steps, "tokens": tokens}])


def load_session(session_id: str, directory: Path | None = None) -> Session:
    directory = directory or sessions_dir()
    path = directory / f"{session_id}.jsonl"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.jsonl")) if directory.is_dir() else []
        hint = f"; recent sessions: {', '.join(known[-5:])}" if known else ""
        raise SessionError(f"no session {session_id!r} in {directory}{hint}")
    return read_session(path)


def read_session(path: Path) -> Session:
    session = Session(id=path.stem, meta={})
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SessionError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        kind = record.pop("kind", None)
        if kind == "meta":
            session.meta = record
        elif kind == "message":
            session.messages.append(record["message"])
        elif kind == "reset":
            session.messages = list(record["messages"])
        elif kind == "usage":
            session.usage = {"steps": int(record["steps"]), "tokens": int(record["tokens"])}
        else:
            raise SessionError(f"{path}:{number}: unknown record kind {kind!r}")
    return session


def read_meta(path: Path) -> dict[str, Any]:
    """A session's meta record (its first line) without reading the rest; {} when there is none."""
    try:
        with path.open(encoding="utf-8") as fh:
            record = json.loads(fh.readline() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}
    return record if isinstance(record, dict) and record.pop("kind", None) == "meta" else {}


def session_files(directory: Path | None = None, workspace: Path | None = None) -> list[Path]:
    """Session files, newest first; only those recorded for `workspace` when it is given."""
    directory = directory or sessions_dir()
    files = (
        sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
        if directory.is_dir()
        else []
    )
    if workspace is None:
        return files
    wanted = str(workspace.resolve())
    return [p for p in files if read_meta(p).get("workspace") == wanted]


def latest_session_id(directory: Path | None = None, workspace: Path | None = None) -> str | None:
    """The newest session, of `workspace` when given (a bare `--resume` must not open another repository's)."""
    files = session_files(directory, workspace)
    return files[0].stem if files else None
