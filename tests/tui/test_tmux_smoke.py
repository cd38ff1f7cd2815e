"""The real `mimo-agent chat` in a real terminal (tmux): what a person sees and what happens to the repo."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mimo_agent.agent.sessions import latest_session_id, load_session
from tests.agent.replay_repo import FIXING_OUTPUTS, make_buggy_repo, write_replay

pytestmark = pytest.mark.slow
TMUX = shutil.which("tmux")


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        ).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "chat")

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{self.screen()}")

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "chat", "-l", text)
        time.sleep(0.2)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "chat", *keys)
        time.sleep(0.2)

    def answer(self, question: str, key: str) -> str:
        """Wait for a permission question, then for its options to take the focus (drawn a moment
        before they get it on a loaded machine), then press `key`."""
        shown = self.wait_for(question)
        time.sleep(1.0)
        self.press(key)
        return shown


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)")
def test_chat_in_tmux_fixes_the_bug_with_approvals(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    replay = write_replay(tmp_path / "replay.jsonl", FIXING_OUTPUTS)
    program = Path(sys.executable).parent / "mimo-agent"
    env = f"env TERM=xterm-256color XDG_STATE_HOME={tmp_path / 'state'} XDG_CONFIG_HOME={tmp_path / 'config'}"
    command = f"{env} {program} chat --backend replay --replay {replay} --permission-mode ask; sleep 30"
    term = Terminal(f"mimo-test-{uuid.uuid4().hex[:8]}")
    term.tmux("new-session", "-d", "-s", "chat", "-x", "100", "-y", "30", "-c", str(repo), command)
    try:
        term.wait_for("type a message")
        # the status line reads "│ – tok/s … loading" until the backend is up; wait for the ready line
        status = term.wait_for("replay │").rstrip().splitlines()[-1]
        assert status.split()[:3] == ["replay", "│", "–"] and status.endswith("ask")
        term.type("fix the failing test")
        term.press("Enter")
        assert "return a - b" in (repo / "calc.py").read_text()
        shown = term.answer("Allow edit calc.py?", "y")
        assert "read_file" in shown and "allow once" in shown
        term.answer("Allow bash", "a")
        shown = term.wait_for("✓ add() subtracted; it now adds.")
        assert "+    return a + b" in shown  # the edit's diff
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        term.type("/exit")
        term.press("Enter")
        deadline = time.monotonic() + 20
        while "type a message" in term.screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "type a message" not in term.screen()  # the app left the screen
    finally:
        term.tmux("kill-server")
    sessions = tmp_path / "state" / "mimo-agent" / "sessions"
    session = load_session(latest_session_id(sessions), sessions)
    assert session.messages[1]["content"] == "fix the failing test"
    assert sum(m["role"] == "tool" for m in session.messages) == 4
