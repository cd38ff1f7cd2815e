"""The trajectory: append-only while the run goes, the complete `mimo-agent-trajectory/1` JSON at the end."""

from __future__ import annotations

import json
from pathlib import Path

from mimo_agent.agent import events as ev
from mimo_agent.agent.runner import RunRequest, prepare_run
from mimo_agent.agent.trajectory import FORMAT, Trajectory
from mimo_agent.backends.replay import ReplayBackend
from mimo_agent.redact import Redactor
from tests.agent.replay_repo import call, make_buggy_repo

SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_flush_appends_only_what_is_new_and_save_writes_the_whole(tmp_path: Path) -> None:
    """Regression: every step rewrote (and re-redacted) the whole history with an indented dump."""
    path = tmp_path / "t.json"
    trajectory = Trajectory(path, info={"task": "t"}, redactor=Redactor({}))
    history = [{"role": "system", "content": "sys"}, {"role": "user", "content": f"key {SECRET}"}]
    trajectory.sync(history)
    trajectory.add(ev.Notice(kind="k", text="one"))
    trajectory.flush()
    partial = trajectory.partial_path
    assert partial is not None and partial.name == "t.json.partial.jsonl" and not path.exists()
    first = partial.read_text()
    [start] = _records(partial)
    assert start["kind"] == "start" and len(start["messages"]) == 2 and SECRET not in first
    history.append({"role": "assistant", "content": "ok"})
    trajectory.sync(history)
    trajectory.add(ev.Notice(kind="k", text="two"))
    trajectory.flush()
    assert partial.read_text().startswith(first)  # appended, not rewritten
    assert [r["kind"] for r in _records(partial)[1:]] == ["message", "event"]
    compacted = [history[0], {"role": "user", "content": "[Summary]"}]
    trajectory.sync(compacted)
    trajectory.flush()
    assert _records(partial)[-1] == {"kind": "reset", "messages": compacted}
    trajectory.outcome = {"kind": "finished"}
    trajectory.save()
    assert not partial.exists()
    text = path.read_text()
    assert "\n" not in text  # no indent: the C encoder
    saved = json.loads(text)
    assert (
        saved["format"] == FORMAT
        and saved["messages"] == compacted
        and saved["outcome"] == {"kind": "finished"}
    )
    assert [e["payload"]["text"] for e in saved["events"]] == ["one", "two"]


def test_redaction_happens_once_per_message(tmp_path: Path) -> None:
    calls: list[object] = []

    class Counting(Redactor):
        def value(self, obj):  # type: ignore[no-untyped-def]
            if isinstance(obj, dict) and "role" in obj:
                calls.append(obj)
            return super().value(obj)

    trajectory = Trajectory(tmp_path / "t.json", info={}, redactor=Counting({}))
    history = [{"role": "user", "content": str(n)} for n in range(50)]
    trajectory.sync(history)
    calls.clear()
    for n in range(10):
        history.append({"role": "assistant", "content": f"a{n}"})
        trajectory.sync(history)
        trajectory.flush()
    assert len(calls) == 10  # the new message only, each step


def test_a_run_saves_every_message_but_not_per_token_deltas(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    outputs = ["Reading. " * 20 + call("read_file", path="calc.py"), call("finish", summary="done")]
    live: list[ev.Event] = []
    request = RunRequest(
        repo,
        "t",
        flags={"permissions": {"mode": "yolo"}},
        trajectory_path=tmp_path / "t.json",
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    prepared = prepare_run(request, live.append, backend=ReplayBackend(outputs, chunk_chars=4))
    run = prepared.agent.run("t")
    prepared.close()
    assert sum(isinstance(e, ev.AssistantDelta) for e in live) > 40  # streamed live...
    saved = json.loads((tmp_path / "t.json").read_text())
    types = [e["type"] for e in saved["events"]]
    assert "assistant_delta" not in types and types.count("assistant_message") == 2  # ...not stored
    assert saved["messages"] == run.messages and saved["outcome"]["kind"] == "finished"
    assert not (tmp_path / "t.json.partial.jsonl").exists()
