"""Esc in the chat sets the run's cancellation token: the model stops between tokens and bash kills its
command, the partial reply stays (on screen and in the history), and the next turn starts from a valid history."""

from __future__ import annotations

import time
from pathlib import Path

from mimo_agent.agent.loop import INTERRUPT_MARK
from mimo_agent.backends.replay import ReplayBackend
from mimo_agent.tui.widgets.assistant import AssistantReply
from tests.agent.replay_repo import call
from tests.processes import alive
from tests.tui.harness import SIZE, chat_app, idle, notes, ready, send, wait_for

BUGGY = "def add(a, b):\n    return a - b\n"
LONG = "I will now change calc.py so that add really adds its two arguments. " * 8
EDIT = call("edit", path="calc.py", old_string="return a - b", new_string="return a + b")


async def test_esc_while_streaming_keeps_the_partial_reply_and_a_valid_history(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [], mode="yolo")
    backend = ReplayBackend([LONG + EDIT, "Understood, I stopped."], chunk_chars=4, chunk_delay=0.02)
    app.options.backend = backend
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.reply is not None and len(screen.reply.text) > 20)
        await pilot.press("escape")
        started = time.monotonic()
        screen = await idle(pilot)
        assert time.monotonic() - started < 5
        assert "interrupted" in notes(screen)[-1]
        agent = screen.session.run.agent
        last = agent.messages[-1]
        assert [m["role"] for m in agent.messages] == ["system", "user", "assistant"]
        assert "tool_calls" not in last and last["content"].endswith(INTERRUPT_MARK)
        kept = last["content"].removesuffix(INTERRUPT_MARK).strip()
        assert kept and LONG.startswith(kept) and len(kept) < len(LONG.strip())  # partial, not the whole
        [reply] = screen.query(AssistantReply)
        assert reply.text.startswith(kept) and INTERRUPT_MARK in reply.text  # the screen keeps it too
        assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY
        await send(pilot, "never mind")  # the history is valid: the next turn runs on it
        screen = await idle(pilot)
        assert agent.messages[-1] == {"role": "assistant", "content": "Understood, I stopped."}
        assert [m["role"] for m in agent.messages][3:] == ["user", "assistant"]


async def test_esc_stops_a_running_bash_command_quickly(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    command = f"sleep 300 & echo $! > {pid_file}; wait"
    app = chat_app(tmp_path, [call("bash", command=command, timeout=600), "ok"], mode="yolo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "run it")
        await wait_for(pilot, lambda: pid_file.exists() and pid_file.read_text().strip())
        await pilot.press("escape")
        started = time.monotonic()
        screen = await idle(pilot)
        assert time.monotonic() - started < 5
        assert "interrupted" in notes(screen)[-1]
        agent = screen.session.run.agent
        assert [m["role"] for m in agent.messages] == ["system", "user", "assistant", "tool"]
        assert "interrupted by the user" in agent.messages[-1]["content"]
        assert agent.backend.remaining == 1  # the model was not called again
        time.sleep(0.2)
        assert not alive(int(pid_file.read_text()))
