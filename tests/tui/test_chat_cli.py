"""`mimo-agent chat` refuses bad starts with one line and exit code 2, before any screen opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.cli.main import build_parser, main
from tests.agent.replay_repo import make_buggy_repo


def test_chat_takes_the_backend_options() -> None:
    args = build_parser().parse_args(
        [
            "chat",
            "--backend",
            "replay",
            "--replay",
            "r.jsonl",
            "--permission-mode",
            "yolo",
            "--max-steps",
            "7",
            "--resume",
        ]
    )
    assert (args.backend, args.replay, args.permission_mode, args.max_steps, args.resume) == (
        "replay",
        "r.jsonl",
        "yolo",
        7,
        "",
    )


def test_not_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--repo", str(tmp_path)]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_unknown_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    repo = make_buggy_repo(tmp_path / "repo")
    assert main(["chat", "--repo", str(repo), "--resume"]) == 2
    assert "no saved sessions" in capsys.readouterr().err
    (tmp_path / "state" / "mimo-agent" / "sessions").mkdir(parents=True)
    (tmp_path / "state" / "mimo-agent" / "sessions" / "s1.jsonl").write_text('{"kind": "meta"}\n')
    assert main(["chat", "--repo", str(repo), "--resume", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no session 'nope'" in err and "recent sessions: s1" in err
