"""The replay backend streams recorded outputs in order and reports bad files precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_agent.backends.base import BackendError
from mimo_agent.backends.replay import ReplayBackend


def test_replays_in_order_with_deltas(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in ["first <tool_call>x</tool_call>", "second"]) + "\n")
    backend = ReplayBackend.from_file(path)
    deltas: list[str] = []
    first = backend.complete([{"role": "user", "content": "hi"}], [], on_delta=deltas.append)
    assert first.text == "first <tool_call>x</tool_call>" and "".join(deltas) == first.text
    assert backend.complete([], []).text == "second"
    with pytest.raises(BackendError, match="exhausted after 2"):
        backend.complete([], [])


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json\n", ":1: not valid JSON"), ('"ok"\n{"a": 1}\n', ":2: expected a JSON string")],
)
def test_bad_lines_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(content)
    with pytest.raises(BackendError, match=message):
        ReplayBackend.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="cannot read replay file"):
        ReplayBackend.from_file(tmp_path / "nope.jsonl")
