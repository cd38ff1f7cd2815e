"""Sessions are saved as they go and reopen by id, also after compaction rewrote the history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mimo_agent.agent.sessions import (
    SessionError,
    SessionWriter,
    latest_session_id,
    load_session,
    session_files,
)
from mimo_agent.backends.history import HistoryTracker


def test_append_and_reset_round_trip(tmp_path: Path) -> None:
    writer = SessionWriter(tmp_path / "s1.jsonl", {"workspace": "/repo"})
    history = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]
    writer.sync(history)
    history.append({"role": "assistant", "content": "ok"})
    writer.sync(history)
    assert len((tmp_path / "s1.jsonl").read_text().splitlines()) == 4  # meta + 3 appended messages
    compacted = [history[0], {"role": "user", "content": "[Summary] …"}]
    writer.sync(compacted)
    session = load_session("s1", tmp_path)
    assert session.meta == {"workspace": "/repo"}
    assert session.messages == compacted
    assert latest_session_id(tmp_path) == "s1"


def test_secrets_are_redacted_on_disk(tmp_path: Path) -> None:
    writer = SessionWriter(tmp_path / "s.jsonl", {})
    writer.sync([{"role": "tool", "content": "OPENAI key sk-proj-abcdefghijklmnopqrstuvwxyz"}])
    assert "sk-proj-abcdefghijklmnopqrstuvwxyz" not in (tmp_path / "s.jsonl").read_text()


def test_unknown_id_lists_recent_sessions(tmp_path: Path) -> None:
    SessionWriter(tmp_path / "a.jsonl", {}).sync([])
    with pytest.raises(SessionError, match="recent sessions: a"):
        load_session("zzz", tmp_path)
    (tmp_path / "bad.jsonl").write_text('{"kind": "meta"}\nnot json\n')
    with pytest.raises(SessionError, match="bad.jsonl:2"):
        load_session("bad", tmp_path)


def test_history_tracker_counts_unchanged_leading_messages() -> None:
    tracker = HistoryTracker()
    history = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert tracker.update(history) == 0
    history.append({"role": "assistant", "content": "a"})
    assert tracker.update(history) == 2
    assert tracker.update(history) == 3
    history[1]["content"] = "edited in place"
    assert tracker.update(history) == 1
    assert tracker.update(history[:1]) == 1 and len(tracker) == 1


def test_latest_and_listing_are_per_workspace(tmp_path: Path) -> None:
    """Regression: a bare --resume opened the newest session of any repository."""
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir()
    other.mkdir()
    SessionWriter(tmp_path / "s" / "a.jsonl", {"workspace": str(mine)}).sync([])
    SessionWriter(tmp_path / "s" / "b.jsonl", {"workspace": str(other)}).sync([])
    os.utime(tmp_path / "s" / "a.jsonl", (1, 1))  # b is the newest overall
    assert latest_session_id(tmp_path / "s") == "b"
    assert latest_session_id(tmp_path / "s", workspace=mine) == "a"
    assert [p.stem for p in session_files(tmp_path / "s", other)] == ["b"]
    assert latest_session_id(tmp_path / "s", workspace=tmp_path) is None


def test_usage_records_keep_the_last_totals_across_a_resume(tmp_path: Path) -> None:
    writer = SessionWriter(tmp_path / "s.jsonl", {})
    assert load_session("s", tmp_path).usage == {"steps": 0, "tokens": 0}  # none recorded yet
    history = [{"role": "user", "content": "task"}]
    writer.sync(history)
    writer.record_usage(2, 300)
    writer.record_usage(5, 900)
    history.append({"role": "assistant", "content": "ok"})
    SessionWriter(tmp_path / "s.jsonl", {}).sync(history)  # resumed: continued, usage kept
    session = load_session("s", tmp_path)
    assert session.usage == {"steps": 5, "tokens": 900} and session.messages == history
