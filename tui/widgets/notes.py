"""Plain lines in the conversation: what the user sent, and notes from the app (outcomes, commands, errors)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class UserMessage(Static):
    def __init__(self, text: str, attached: list[str] | None = None) -> None:
        body = Text.assemble(("› ", "bold"), text)
        if attached:
            body.append("\n  attached: " + ", ".join(f"@{p}" for p in attached), style="dim")
        super().__init__(body)


class Note(Static):
    """`kind` is info, error or done; it picks the colour in main.tcss."""

    def __init__(self, text: str | Text, kind: str = "info") -> None:
        super().__init__(text, classes=f"note -{kind}", markup=False)
