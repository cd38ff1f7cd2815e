"""Pictures of the screens at 80×24 (pytest-textual-snapshot); update with `pytest --snapshot-update`.

Deterministic by construction: the replay backend, a fixed terminal size, no clock on screen, and only
the workspace's folder name ("repo") shown.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from mimo_agent.tui.widgets.permission import PermissionPrompt
from tests.agent.replay_repo import call
from tests.tui.harness import SIZE, chat_app, idle, ready, send, wait_for

LOOK = "<think>The user asks where the bug is.\nThe test calls add().</think>Let me read it.\n" + call(
    "read_file", path="calc.py"
)
ANSWER = "The bug is in **calc.py**: `add` subtracts.\n\n```python\ndef add(a, b):\n    return a - b\n```\n\nFix it?"


async def steady(pilot: Pilot) -> None:
    """No blinking cursor (its phase depends on timing), and fixed token counts in the status bar.

    The real counts depend on the system prompt template, which the agent package owns; the Pilot tests
    check the counts, the pictures check the layout.
    """
    screen = pilot.app.screen_stack[1]
    screen.status.info = screen.status.info.but(context_used=12_345, session_tokens=23_456)
    area = screen.query_one("#prompt")
    area.cursor_blink = False
    area.blur()
    await pilot.pause()
    area.focus()  # focusing shows the cursor; without blinking it stays shown
    await pilot.pause(0.1)


EDIT = call("edit", path="calc.py", old_string="return a - b", new_string="return a + b")


def test_main_screen(tmp_path: Path, snap_compare) -> None:
    """A question, folded reasoning, a read_file card (✓, result folded), a Markdown answer, the status bar."""

    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await send(pilot, "where is the bug?")
        await idle(pilot)
        await steady(pilot)

    assert snap_compare(chat_app(tmp_path, [LOOK, ANSWER]), terminal_size=SIZE, run_before=run_before)


def test_main_screen_light(tmp_path: Path, snap_compare) -> None:
    """The same conversation in the light theme: dark text on light panels, the card's edge still green."""

    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await send(pilot, "where is the bug?")
        await idle(pilot)
        await steady(pilot)

    app = chat_app(tmp_path, [LOOK, ANSWER], theme="light")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_tool_card_with_diff(tmp_path: Path, snap_compare) -> None:
    """An edit card after it ran: green edge, ✓ done, the unified diff coloured, the result folded."""

    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await send(pilot, "fix it")
        await idle(pilot)
        await steady(pilot)

    app = chat_app(tmp_path, [EDIT, call("finish", summary="add() adds now.")], mode="yolo")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_permission_prompt(tmp_path: Path, snap_compare) -> None:
    """The edit card waiting, and under it the three answers with the first highlighted."""

    async def run_before(pilot: Pilot) -> None:
        screen = await ready(pilot)
        await send(pilot, "fix it")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        await steady(pilot)

    app = chat_app(tmp_path, [EDIT, call("finish", summary="done")], mode="ask")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(tmp_path: Path, snap_compare) -> None:
    """The keys and slash commands over the conversation, in the light theme."""

    async def run_before(pilot: Pilot) -> None:
        await ready(pilot)
        await steady(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(chat_app(tmp_path, [], theme="light"), terminal_size=SIZE, run_before=run_before)
