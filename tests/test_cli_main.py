"""The `mimo-agent` dispatcher and the package layout it relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mimo_agent.engine
import mimo_agent.evals
import mimo_agent.tools
import mimo_agent.tui
from mimo_agent.cli.main import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def test_top_level_folders_install_under_mimo_agent() -> None:
    for module, folder in [
        (mimo_agent.engine, "engine"),
        (mimo_agent.tools, "tools"),
        (mimo_agent.tui, "tui"),
        (mimo_agent.evals, "evals"),
    ]:
        assert Path(module.__file__).resolve().parent == REPO / folder


def test_help_lists_every_discovered_command(capsys) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # the registered sub-commands
    assert {"chat", "fix-issue", "generate", "model-info", "serve", "toolcalls", "eval", "config"} <= set(
        commands
    )
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for name in commands:
        assert name in out


def test_help_says_a_bare_mimo_agent_is_chat(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "Without a command, mimo-agent opens `chat`" in out and "mimo-agent chat --help" in out
    # The epilog keeps its own line breaks instead of being rewrapped to the terminal's width.
    assert "\nrepository: `mimo-agent` is `mimo-agent chat`, and `mimo-agent --resume [ID]` is\n" in out


def test_bare_options_go_to_chat(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr("sys.argv", ["mimo-agent", "--resume", "abc"])
    import mimo_agent.cli.chat as chat

    monkeypatch.setattr(chat, "_run", lambda args: seen.append(args.resume) or 0)
    assert main() == 0
    assert seen == ["abc"]


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mimo_agent.cli.main", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("mimo-agent ")
