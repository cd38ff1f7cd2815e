"""The ways into help, and the layout at a terminal larger than 80×24."""

from __future__ import annotations

from pathlib import Path

from mimo_agent.tui.screens.help import HelpScreen
from mimo_agent.tui.widgets.assistant import AssistantReply
from mimo_agent.tui.widgets.conversation import Conversation
from mimo_agent.tui.widgets.prompt_input import PromptInput
from mimo_agent.tui.widgets.status_bar import StatusBar
from mimo_agent.tui.widgets.tool_card import ToolCard
from tests.agent.replay_repo import call
from tests.tui.harness import SIZE, chat_app, idle, ready, send

LARGE = (120, 40)


async def test_help_opens_from_slash_help_f1_and_question_mark(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/help")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")  # the same key closes it
        assert app.screen is screen
        prompt = screen.query_one(PromptInput)
        prompt.focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        assert app.screen is screen and prompt.text == ""
        await pilot.press("w", "h", "y", "question_mark")  # in a message it is just a character
        assert prompt.text == "why?" and app.screen is screen


async def test_layout_at_120x40_uses_the_whole_terminal(tmp_path: Path) -> None:
    outputs = ["Reading it.\n" + call("read_file", path="calc.py"), "It subtracts."]
    app = chat_app(tmp_path, outputs, mode="yolo")
    async with app.run_test(size=LARGE) as pilot:
        await ready(pilot)
        await send(pilot, "where is the bug?")
        screen = await idle(pilot)
        width, height = LARGE
        conversation = screen.query_one(Conversation).region
        prompt = screen.query_one(PromptInput).region
        status = screen.query_one(StatusBar).region
        assert (status.x, status.y, status.width, status.height) == (0, height - 1, width, 1)
        assert (prompt.x, prompt.width, prompt.bottom) == (0, width, status.y)
        assert (conversation.y, conversation.width, conversation.bottom) == (0, width, prompt.y)
        card = screen.query_one(ToolCard).region
        reply = screen.query(AssistantReply).last().region
        assert card.width >= width - 4 and reply.width >= width - 4  # widgets stretch, not stuck at 80
        shown = str(screen.status.render())
        assert "…" not in shown and shown.rstrip().endswith("yolo")  # nothing cut at this width
