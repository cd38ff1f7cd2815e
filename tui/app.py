"""The chat app: themes and global keys; the work happens on MainScreen."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from mimo_agent.tui.chat_session import ChatOptions
from mimo_agent.tui.screens.main import MainScreen

THEMES = {"dark": "textual-dark", "light": "textual-light"}


class ChatApp(App[None]):
    TITLE = "mimo-agent"
    BINDINGS = [
        Binding("ctrl+t", "toggle_theme", "theme"),
        Binding("f1", "help", "help"),
        Binding("ctrl+q", "quit", "quit", priority=True),
    ]

    def __init__(self, options: ChatOptions) -> None:
        super().__init__()
        self.options = options

    def on_mount(self) -> None:
        self.theme = THEMES[self.options.theme]
        self.push_screen(MainScreen(self.options))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.current_theme.dark else THEMES["dark"]

    def action_help(self) -> None:
        if isinstance(self.screen, MainScreen):
            self.screen.action_help()
