"""A tool call as a card: name and arguments, a spinner while it runs, then its result or diff."""

from __future__ import annotations

import json
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Collapsible, Static

from mimo_agent.tui.widgets.tool_output import exit_status, render_result

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
MAX_ARG_LINES = 6
MAX_RESULT_LINES = 400
HEADLINE_ARGS = ("path", "command", "pattern", "summary", "focus")


def headline_key(arguments: dict[str, Any]) -> str | None:
    return next((key for key in HEADLINE_ARGS if key in arguments), None)


def headline(arguments: dict[str, Any]) -> str:
    """The one argument that says what the call is about, for the card's title line."""
    key = headline_key(arguments)
    lines = str(arguments[key]).splitlines() if key else []
    return lines[0] if lines else ""


def pretty_arguments(arguments: dict[str, Any]) -> str:
    """The arguments one per line, long values cut; a one-line headline argument is not repeated."""
    lines = []
    shown = headline_key(arguments)
    for key, value in arguments.items():
        if key == shown and "\n" not in str(value):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
        body = text.splitlines() or [""]
        if len(body) > MAX_ARG_LINES:
            body = body[:MAX_ARG_LINES] + [f"… {len(body) - MAX_ARG_LINES} more lines"]
        lines.append(f"{key}: {body[0]}")
        lines += [" " * (len(key) + 2) + line for line in body[1:]]
    return "\n".join(lines)


class ToolCard(Vertical):
    state: reactive[str] = reactive("pending")  # pending | running | done | error | denied
    _frame = 0

    def __init__(
        self, call_id: str, name: str, arguments: dict[str, Any], repairs: list[str] | None = None
    ) -> None:
        super().__init__(classes="tool-card -pending")
        self.call_id = call_id
        self.tool_name = name
        self.arguments = arguments
        self.repairs = repairs or []
        self.detail = ""

    def compose(self) -> ComposeResult:
        title = Text.assemble((self.tool_name, "bold"), ("  " + headline(self.arguments), ""))
        if self.repairs:
            title.append(f"  (repaired: {', '.join(self.repairs)})", style="dim")
        yield Static(title, classes="tool-title")
        text = pretty_arguments(self.arguments)
        args = Static(text, classes="tool-args", markup=False)
        args.display = bool(text)
        yield args
        yield Static("", classes="tool-status")

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.1, self._spin, pause=True)
        self._show_status()

    def watch_state(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")
        if self.is_mounted:
            if new == "running":
                self._timer.resume()
            else:
                self._timer.pause()
            self._show_status()

    def _spin(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self._show_status()

    def _show_status(self) -> None:
        label = {
            "pending": "waiting for approval",
            "running": f"{SPINNER[self._frame]} running",
            "done": "✓ done",
            "error": "✗ failed",
            "denied": "✗ denied",
        }[self.state]
        if self.detail:
            label += f": {self.detail}"
        self.query_one(".tool-status", Static).update(Text(label))

    def decided(self, allowed: bool, reason: str) -> None:
        if allowed:
            self.state = "running"
        else:
            self.detail = reason
            self.state = "denied"

    async def finished(
        self, output: str, is_error: bool, metadata: dict[str, Any], dark: bool = True
    ) -> None:
        """`is_error` is False for every result of a resumed session, so bash's failure is read from its text."""
        theme = "ansi_dark" if dark else "ansi_light"
        diff = metadata.get("diff")
        status = exit_status(output) if self.tool_name == "bash" else None
        failed = is_error or (status is not None and not status[1])
        if self.state != "denied":
            if status is not None and failed:
                self.detail = status[0]
            self.state = "error" if failed else "done"
        if isinstance(diff, str) and diff.strip():
            body = Syntax(diff.rstrip("\n"), "diff", theme=theme, word_wrap=True)
            await self.mount(Collapsible(Static(body), title="diff", collapsed=False, classes="tool-result"))
        if self.state == "denied":
            return
        lines = output.rstrip("\n").splitlines()
        shown = "\n".join(lines[:MAX_RESULT_LINES])
        if len(lines) > MAX_RESULT_LINES:
            shown += f"\n… {len(lines) - MAX_RESULT_LINES} more lines"
        title = f"result · {len(lines)} line{'s' if len(lines) != 1 else ''}"
        if status is not None:
            title = f"{status[0]} · {title}"
        body = Static(render_result(self.tool_name, self.arguments, shown, theme), classes="tool-output")
        await self.mount(Collapsible(body, title=title, collapsed=not failed, classes="tool-result"))
