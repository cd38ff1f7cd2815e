"""`?` / `/help`: the keys and slash commands, in a modal over the conversation."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mimo_agent.tui.commands import COMMANDS, KEYS


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("Keys", "", style="underline")
    for key, what in KEYS:
        table.add_row(key, what)
    table.add_row("", "")
    table.add_row("Commands", "", style="underline")
    for name, what in COMMANDS.items():
        table.add_row(f"/{name}", what)
    table.add_row("", "")
    table.add_row("@path", "attach a workspace file to the message (tab completes)")
    return table


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_table())
            yield Static("esc closes", id="help-footer")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
