"""A chat app on a temporary buggy repository with the replay backend, and a way to wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from mimo_agent.tui.app import ChatApp
from mimo_agent.tui.chat_session import ChatOptions
from mimo_agent.tui.screens.main import MainScreen
from mimo_agent.tui.widgets.notes import Note
from tests.agent.replay_repo import make_buggy_repo, write_replay

SIZE = (80, 24)


def chat_app(
    tmp_path: Path,
    outputs: list[str],
    mode: str = "ask",
    resume: str | None = None,
    theme: str = "dark",
    **settings: dict[str, Any],
) -> ChatApp:
    repo = tmp_path / "repo"
    if not repo.exists():
        make_buggy_repo(repo)
    replay = write_replay(tmp_path / "replay.jsonl", outputs)
    flags: dict[str, dict[str, Any]] = {
        "model": {"backend": "replay", "replay": str(replay)},
        "permissions": {"mode": mode},
        **settings,
    }
    options = ChatOptions(
        workspace=repo,
        flags=flags,
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        sessions_directory=tmp_path / "sessions",
        resume=resume,
        theme=theme,
    )
    return ChatApp(options)


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Let the app and its worker threads run until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        await pilot.pause(0.05)


def main_screen(pilot: Pilot) -> MainScreen:
    screen = pilot.app.screen_stack[1] if len(pilot.app.screen_stack) > 1 else pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def ready(pilot: Pilot) -> MainScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
    screen = main_screen(pilot)
    await wait_for(pilot, lambda: screen.status.info.state == "ready")
    return screen


async def send(pilot: Pilot, text: str) -> None:
    """Type `text` into the message box and press enter, as a person would."""
    screen = main_screen(pilot)
    screen.query_one("#prompt").focus()
    await pilot.press(*text)
    await pilot.press("enter")


async def idle(pilot: Pilot) -> MainScreen:
    """Wait until the turn (or slash command) in progress has ended."""
    screen = main_screen(pilot)
    await pilot.pause(0.05)
    await wait_for(pilot, lambda: not screen.busy)
    await pilot.pause(0.1)
    return screen


def notes(screen: MainScreen) -> list[str]:
    """The app's notes in the conversation, as plain text."""
    return [str(n.render()) for n in screen.query(Note)]
