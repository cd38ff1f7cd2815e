"""Tool cards: the spinner while a tool runs, bash exit status, grep hits, and an interrupted empty reply."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Static

from mimo_agent.tui.widgets.assistant import AssistantReply
from mimo_agent.tui.widgets.permission import PermissionPrompt
from mimo_agent.tui.widgets.tool_card import SPINNER, ToolCard
from mimo_agent.tui.widgets.tool_output import bash_text, exit_status, grep_text
from tests.agent.replay_repo import call
from tests.tui.harness import SIZE, chat_app, idle, notes, ready, send, wait_for

FINISH = call("finish", summary="done")


def styles(text: Text, part: str) -> set[str]:
    """The styles of the spans covering exactly `part` of a rich Text."""
    start = text.plain.index(part)
    return {str(s.style) for s in text.spans if s.start == start and s.end == start + len(part)}


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("ok\n[exit code 0]", ("exit 0", True)),
        ("boom\n[exit code 2]\n[working directory is now /tmp, outside the workspace]", ("exit 2", False)),
        ("[timed out after 5s; the command and its child processes were killed]", ("timed out", False)),
        ("just text", None),
    ],
)
def test_exit_status_is_read_from_the_result_text(output: str, expected: tuple[str, bool] | None) -> None:
    assert exit_status(output) == expected


def test_bash_output_stays_plain_and_the_exit_line_is_coloured() -> None:
    passed = bash_text("1 passed\n[exit code 0]")
    assert styles(passed, "[exit code 0]") == {"bold green"} and styles(passed, "1 passed") == set()
    failed = bash_text("E   assert 1 == 2\n[exit code 1]")
    assert styles(failed, "[exit code 1]") == {"bold red"}


def test_grep_hits_colour_path_line_and_match() -> None:
    shown = "src/calc.py:2:    return a - b\nsrc/calc.py-3-\n--\n[1 matches in 1 files]"
    text = grep_text(shown, r"a - b")
    assert text.plain == shown
    assert styles(text, "src/calc.py") == {"magenta"}
    assert styles(text, "2") == {"green"}
    assert styles(text, "a - b") == {"bold red"}
    assert styles(text, "[1 matches in 1 files]") == {"dim"}
    assert grep_text("x.py:1:(", "(").plain == "x.py:1:("  # an invalid pattern only skips the match colour


async def test_a_running_tool_spins_then_shows_its_exit_status(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [call("bash", command="sleep 2; echo slept"), FINISH], mode="yolo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "wait a bit")
        await wait_for(
            pilot, lambda: screen.query(ToolCard) and screen.query_one(ToolCard).state == "running"
        )
        card = screen.query_one(ToolCard)
        status = card.query_one(".tool-status", Static)
        first = str(status.render())
        assert first[0] in SPINNER and first.endswith("running") and card.has_class("-running")
        await pilot.pause(0.35)
        assert str(status.render()) != first  # the spinner turns
        assert screen.status.info.state == "working"
        screen = await idle(pilot)
        assert card.state == "done" and str(status.render()) == "✓ done"
        result = card.query_one(".tool-result")
        assert result.title == "exit 0 · result · 2 lines" and result.collapsed


async def test_a_failing_command_shows_its_exit_code_live_and_resumed(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [call("bash", command="echo nope; exit 3"), FINISH], mode="yolo")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "fail")
        screen = await idle(pilot)
        card = screen.query_one(ToolCard)
        assert card.state == "error"
        assert str(card.query_one(".tool-status", Static).render()) == "✗ failed: exit 3"
        result = card.query_one(".tool-result")
        assert result.title.startswith("exit 3 ·") and not result.collapsed
        assert str(result.query_one(".tool-output", Static).render()).endswith("nope\n[exit code 3]")
    resumed = chat_app(tmp_path, [], mode="yolo", resume="")
    async with resumed.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_for(pilot, lambda: "resumed" in notes(screen)[-1])  # the replay is done
        card = screen.query_one(ToolCard)  # a resumed result has no is_error: the text says it failed
        assert card.state == "error" and card.detail == "exit 3"
        assert not card.query_one(".tool-result").collapsed


async def test_an_interrupt_before_anything_streamed_adds_no_empty_reply(tmp_path: Path) -> None:
    """Regression: Esc at a permission question left a reply reading only "[interrupted]"."""
    edit = call("edit", path="calc.py", old_string="return a - b", new_string="return a + b")
    app = chat_app(tmp_path, [edit, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        await pilot.press("escape")
        screen = await idle(pilot)
        shown = [r for r in screen.query(AssistantReply) if r.display]
        assert shown == [] and all("interrupted" not in r.text for r in screen.query(AssistantReply))
