"""What may run while a turn runs, and the counters the status bar shows across turns, /clear and resume."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from mimo_agent.agent.sessions import load_session
from mimo_agent.tui.screens.diff import DiffScreen
from mimo_agent.tui.widgets.permission import PermissionPrompt
from tests.agent.replay_repo import call
from tests.tui.harness import SIZE, chat_app, idle, notes, ready, send, wait_for

EDIT = call("edit", path="calc.py", old_string="return a - b", new_string="return a + b")
FINISH = call("finish", summary="done")


async def test_diff_during_a_turn_does_not_let_a_second_turn_start(tmp_path: Path) -> None:
    """Regression: /diff's end cleared the turn's busy state, so a message sent while the turn waited at a
    permission question started a second turn beside it (history: system, user, assistant, user,
    assistant, tool answering a call that was never answered)."""
    app = chat_app(tmp_path, [EDIT, FINISH, "a second turn's answer"], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        await send(pilot, "/diff")  # a read-only command is allowed during the turn
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        assert "No changes." in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert screen.busy and screen.status.info.state == "working"
        await send(pilot, "and also this")
        await pilot.pause(0.2)
        assert "still working" in notes(screen)[-1]
        await send(pilot, "/undo")
        await pilot.pause()
        assert "/undo waits until the turn ends" in notes(screen)[-1]
        screen.query_one(PermissionPrompt).query_one(OptionList).focus()
        await pilot.press("y")
        screen = await idle(pilot)
        agent = screen.session.run.agent
        assert [m["content"] for m in agent.messages if m["role"] == "user"][1:] == []  # only "fix add"
        assert agent.backend.remaining == 1  # the second answer was never asked for
        assert (tmp_path / "repo" / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        assert screen.status.info.state == "ready"


async def test_steps_restart_after_clear(tmp_path: Path) -> None:
    """Regression: /clear showed step 0, and the next turn then showed the agent's running count (step 3)."""
    app = chat_app(tmp_path, [EDIT, FINISH, "hello again"], mode="yolo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        screen = await idle(pilot)
        assert screen.status.info.steps == 2
        await send(pilot, "/clear")
        await pilot.pause()
        assert screen.status.info.steps == 0 and screen.status.info.session_tokens == 0
        await send(pilot, "hi")
        screen = await idle(pilot)
        assert screen.status.info.steps == 1
        assert "step 1 " in str(screen.status.render())
        await send(pilot, "/cost")
        await pilot.pause()
        assert f"this session: {screen.tokens} tokens over 1 steps" in notes(screen)[-1]


async def test_steps_and_tokens_go_on_after_resume(tmp_path: Path) -> None:
    """Regression: after --resume the status bar and /cost counted again from 0 steps and 0 tokens."""
    first = chat_app(tmp_path, [EDIT, FINISH], mode="yolo")
    async with first.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "fix add")
        screen = await idle(pilot)
        steps, tokens, session_id = screen.status.info.steps, screen.tokens, screen.session.session_id
    assert steps == 2 and tokens > 0
    second = chat_app(tmp_path, ["It adds now."], mode="yolo", resume="")
    async with second.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert (screen.status.info.steps, screen.status.info.session_tokens) == (2, tokens)
        await send(pilot, "/cost")
        await pilot.pause()
        assert f"this session: {tokens} tokens over 2 steps" in notes(screen)[-1]
        await send(pilot, "does it work?")
        screen = await idle(pilot)
        assert screen.status.info.steps == 3 and screen.tokens > tokens
    assert load_session(session_id, tmp_path / "sessions").usage == {"steps": 3, "tokens": screen.tokens}


async def test_model_explains_how_to_switch(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/model")
        await pilot.pause()
        shown = notes(screen)[-1]
        assert shown.startswith(f"model: {tmp_path / 'replay.jsonl'}\nbackend: replay")
        assert f"mimo-agent chat --resume {screen.session.session_id} --backend BACKEND --model DIR" in shown
