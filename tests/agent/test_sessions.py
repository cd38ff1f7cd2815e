"""Sessions are saved as they go and reopen by id, also after compaction rewrote the history."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.agent.sessions import SessionError, SessionWriter, latest_session_id, load_session


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
