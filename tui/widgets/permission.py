"""The inline permission question: allow once, allow for this session, or deny with a reason for the model."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mimo_agent.agent.permissions import Decision
from mimo_agent.tui.bridge import PermissionRequest
from mimo_agent.tui.widgets.tool_card import headline

DEFAULT_DENIAL = "the user declined; ask them or try another way"


class PermissionPrompt(Vertical):
    BINDINGS = [
        Binding("y", "allow_once", "allow once"),
        Binding("a", "allow_session", "allow for session"),
        Binding("n", "deny", "deny"),
    ]

    class Answered(Message):
        def __init__(self, prompt: PermissionPrompt, decision: Decision) -> None:
            super().__init__()
            self.prompt = prompt
            self.decision = decision

    def __init__(self, request: PermissionRequest) -> None:
        super().__init__(classes="permission")
        self.request = request

    def compose(self) -> ComposeResult:
        what = headline(self.request.arguments)
        yield Static(
            Text.assemble(
                ("Allow ", "bold"),
                (self.request.name, "bold"),
                (f" {what}" if what else "", ""),
                "?\n",
                (self.request.reason, "dim"),
            ),
            classes="permission-question",
        )
        yield OptionList(
            Option("y  allow once", id="once"),
            Option("a  allow for this session", id="session"),
            Option("n  deny, and tell the model why", id="deny"),
            classes="permission-options",
        )
        yield Input(placeholder="why? (enter sends; empty: just decline)", classes="permission-reason")

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.take_focus()

    def take_focus(self) -> None:
        """Keyboard focus on the choices (or on the reason, once deny asked for one)."""
        reason = self.query_one(Input)
        (reason if reason.display else self.query_one(OptionList)).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        {"once": self.action_allow_once, "session": self.action_allow_session, "deny": self.action_deny}[
            event.option.id or "deny"
        ]()

    def action_allow_once(self) -> None:
        self._answer(Decision(True, "the user allowed it once"))

    def action_allow_session(self) -> None:
        self._answer(Decision(True, "the user allowed it for this session", remember=True))

    def action_deny(self) -> None:
        reason = self.query_one(Input)
        reason.display = True
        reason.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        said = event.value.strip()
        self._answer(Decision(False, f"the user said: {said}" if said else DEFAULT_DENIAL))

    def _answer(self, decision: Decision) -> None:
        self.request.answer(decision)
        self.post_message(self.Answered(self, decision))
