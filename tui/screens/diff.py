"""`/diff`: the changes since the session started, coloured, in a scrollable modal."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class DiffScreen(ModalScreen[None]):
    CSS_PATH = "diff.tcss"
    BINDINGS = [Binding("escape,q", "dismiss", "close")]

    def __init__(self, diff: str, dark: bool = True) -> None:
        super().__init__()
        self.diff = diff
        self.dark = dark

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="diff-box") as box:
            box.border_title = "changes since the session started"
            box.border_subtitle = "esc closes"
            if self.diff.strip():
                theme = "ansi_dark" if self.dark else "ansi_light"
                yield Static(Syntax(self.diff.rstrip("\n"), "diff", theme=theme))
            else:
                yield Static("No changes.")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
