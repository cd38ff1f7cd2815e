"""The pure parts of the input: slash commands, @mentions, history, and the status bar's numbers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mimo_agent.tui.commands import COMMANDS, SlashCommand, UnknownCommand, parse_command
from mimo_agent.tui.mentions import (
    MentionError,
    attachments,
    complete,
    mention_at,
    with_attachments,
    workspace_files,
)
from mimo_agent.tui.widgets.prompt_input import InputHistory
from mimo_agent.tui.widgets.status_bar import StatusInfo, context_bar, short_count, status_text


def test_commands() -> None:
    assert parse_command("hello /mode") is None
    assert parse_command("//not a command") is None
    assert parse_command(" /mode  yolo ") == SlashCommand("mode", "yolo")
    assert set(COMMANDS) == {
        "help",
        "clear",
        "compact",
        "undo",
        "diff",
        "model",
        "mode",
        "cost",
        "sessions",
        "exit",
    }
    with pytest.raises(UnknownCommand, match="unknown command /quit; valid commands: /help"):
        parse_command("/quit")


def test_mention_completion() -> None:
    files = ["src/app.py", "src/api.py", "README.md"]
    assert mention_at("see @src/a", 10) == "src/a"
    assert mention_at("mail a@b", 8) is None
    assert complete("src/a", files) == ("src/ap", ["src/app.py", "src/api.py"])
    assert complete("src/app", files) == ("src/app.py", ["src/app.py"])
    assert complete("readme", files) == ("README.md", ["README.md"])  # falls back to a substring match


def test_attachments_stay_inside_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "a.py").write_text("x = 1\n")
    (tmp_path / "secret.txt").write_text("no")
    (tmp_path / "ws" / "bin.dat").write_bytes(b"\0\1\2")
    found = attachments("look at @a.py and @a.py", tmp_path / "ws")
    assert [(a.path, a.text) for a in found] == [("a.py", "x = 1\n")]
    assert with_attachments("hi", found) == 'hi\n\n<file path="a.py">\nx = 1\n</file>'
    for text, problem in (
        ("@../secret.txt", "outside the workspace"),
        ("@nope.py", "no such file"),
        ("@bin.dat", "binary"),
    ):
        with pytest.raises(MentionError, match=problem):
            attachments(text, tmp_path / "ws")


def test_workspace_files_respect_gitignore(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.o").write_text("")
    (tmp_path / "main.c").write_text("")
    assert workspace_files(tmp_path) == [".gitignore", "main.c"]


def test_history_keeps_the_draft() -> None:
    history = InputHistory()
    for text in ("one", "two", "two"):
        history.add(text)
    assert history.entries == ["one", "two"]
    assert history.previous("draft") == "two"
    assert history.previous("two") == "one"
    assert history.previous("one") is None
    assert history.next() == "two"
    assert history.next() == "draft"
    assert history.next() is None


def test_status_numbers() -> None:
    assert context_bar(0, 100) == ("░░░░░░░░", 0.0)
    assert context_bar(50, 100)[0] == "████░░░░"
    assert context_bar(12_345, 262_144)[0] == "▍░░░░░░░"  # 4.7% of 8 cells is 3 eighths of one
    assert context_bar(500, 100) == ("████████", 1.0)
    assert [short_count(n) for n in (999, 2_534, 262_144, 3_400_000)] == ["999", "2.5K", "262K", "3.4M"]


def test_status_line_names_backend_speed_context_mtp_steps_tokens_and_mode() -> None:
    info = StatusInfo(
        backend="embedded",
        model="MiMo-V2-Flash",
        mode="ask",
        tokens_per_second=41.46,
        context_used=131_072,
        context_limit=262_144,
        mtp_accepted=2.4,
        steps=7,
        session_tokens=250_000,
        state="ready",
    )
    assert status_text(info).plain == (
        " embedded MiMo-V2-Flash │ 41.5 tok/s │ ctx ████░░░░ 131K/262K │ mtp 2.40 │ step 7 │ 250K tok │ ask"
    )
    plain = status_text(info.but(tokens_per_second=None, mtp_accepted=None, state="working")).plain
    assert "– tok/s" in plain and "mtp" not in plain and plain.endswith("│ working")
