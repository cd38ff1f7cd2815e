"""Slash commands: the table the help screen shows and the parser the input uses."""

from __future__ import annotations

from dataclasses import dataclass

from mimo_agent.settings import ModelSettings

COMMANDS: dict[str, str] = {
    "help": "list keys and commands",
    "clear": "start a fresh conversation (the session file keeps the old one)",
    "compact": "summarise older turns now to free context",
    "undo": "put files and conversation back as they were before the last turn",
    "diff": "show the changes since the session started",
    "model": "show the model and backend; switching needs a restart (it says how)",
    "mode": "show or set the permission mode: /mode read-only|ask|auto-edit|yolo",
    "cost": "tokens used and steps taken in this session",
    "sessions": "list saved sessions (reopen one with `mimo-agent chat --resume ID`)",
    "exit": "leave mimo-agent",
}

KEYS: list[tuple[str, str]] = [
    ("enter", "send the message"),
    ("ctrl+j, \\ enter", "new line in the message (or end the line with \\)"),
    ("up, down", "previous / next message from history (on the first / last line)"),
    ("tab", "complete an @path mention (the file is attached to the message)"),
    ("esc", "interrupt the agent (partial output is kept)"),
    ("y / a / n", "permission prompt: allow once / allow for this session / deny with a reason"),
    ("ctrl+t", "switch between the dark and the light theme"),
    ("?, f1", "this help (? on an empty input)"),
    ("ctrl+q", "quit"),
]


class UnknownCommand(ValueError):
    """A slash command that is not in COMMANDS; the message lists the valid ones."""


@dataclass(frozen=True)
class SlashCommand:
    name: str
    argument: str


def parse_command(text: str) -> SlashCommand | None:
    """`/mode ask` → SlashCommand("mode", "ask"); None when `text` is a plain message."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, argument = stripped[1:].partition(" ")
    if name not in COMMANDS:
        valid = " ".join(f"/{n}" for n in COMMANDS)
        raise UnknownCommand(f"unknown command /{name}; valid commands: {valid}")
    return SlashCommand(name, argument.strip())


def model_report(model: ModelSettings, backend: str, session_id: str) -> str:
    """What /model shows. It does not switch: an embedded engine holds its weights in GPU memory, so another
    model means another process; `--resume` carries the conversation over."""
    source = {
        "replay": model.replay,
        "openai": f"{model.model_name or '(server default)'} at {model.base_url or '(default URL)'}",
    }.get(model.backend, model.path)
    return "\n".join(
        [
            f"model: {source or '-'}",
            f"backend: {backend} · context window {model.context_window} tokens · tool format {model.tool_format}",
            "/model cannot swap a loaded model mid-session. To use another one: /exit, then",
            f"  mimo-agent chat --resume {session_id} --backend BACKEND --model DIR   (or --base-url/--model-name)",
            "(--resume keeps this conversation; `mimo-agent chat --help` lists the backend options)",
        ]
    )
