"""A start that fails (a backend that cannot load) is shown in the app, not as a crash."""

from __future__ import annotations

from pathlib import Path

from tests.tui.harness import SIZE, chat_app, main_screen, notes, send, wait_for


async def test_missing_replay_file_is_reported_and_sending_explains(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [])
    (tmp_path / "replay.jsonl").unlink()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(pilot.app.screen_stack) > 1)
        screen = main_screen(pilot)
        await wait_for(pilot, lambda: screen.status.info.state == "error")
        assert "replay.jsonl: cannot read replay file" in notes(screen)[-1]
        await send(pilot, "hello")
        await pilot.pause()
        assert "could not start" in notes(screen)[-1]
