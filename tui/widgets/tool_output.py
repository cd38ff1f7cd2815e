"""How a tool's result reads in its card: source as its language, bash with its exit status, grep as hits.

Everything is derived from the result text itself (not only the live metadata), so a resumed session's
cards look like the live ones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.syntax import Syntax
from rich.text import Text

# The status line the bash tool ends its output with (tools/bash.py).
EXIT_LINE = re.compile(r"^\[(?:exit code (?P<code>-?\d+)|(?P<timeout>timed out after [^\]]*))\]$")
NOTE_LINE = re.compile(r"^\[.*\]$")  # bash and grep footers: "[working directory is now …]", "[3 matches …]"
# grep hits: `path:12:text`, context lines `path-11-text`, groups separated by `--` (tools/grep.py).
GREP_LINE = re.compile(r"^(?P<path>.+?)(?P<sep>[:-])(?P<line>\d+)(?P=sep)(?P<text>.*)$")


def result_lexer(name: str, arguments: dict[str, Any]) -> str:
    """read_file results are highlighted as the file's language; other tools have their own rendering."""
    path = arguments.get("path")
    if name == "read_file" and isinstance(path, str):
        return Syntax.guess_lexer(path) if Path(path).suffix else "text"
    return "text"


def exit_status(output: str) -> tuple[str, bool] | None:
    """("exit 0", True) from a bash result's last status line; None when it has none."""
    for line in reversed(output.rstrip("\n").splitlines()):
        if match := EXIT_LINE.match(line):
            code = match["code"]
            return (f"exit {code}", code == "0") if code is not None else ("timed out", False)
    return None


def bash_text(shown: str) -> Text:
    """Output plain (it is whatever the command printed); the exit status green or red, notes dim."""
    text = Text()
    for line in shown.splitlines():
        if match := EXIT_LINE.match(line):
            text.append(line, style="bold green" if match["code"] == "0" else "bold red")
        elif NOTE_LINE.match(line):
            text.append(line, style="dim")
        else:
            text.append(line)
        text.append("\n")
    text.rstrip()
    return text


def grep_text(shown: str, pattern: object, ignore_case: bool = False) -> Text:
    """`path:line:` coloured like `grep --color`, the matched text bold, separators and footers dim."""
    try:
        regex = re.compile(str(pattern), re.IGNORECASE if ignore_case else 0) if pattern else None
    except re.error:
        regex = None
    text = Text()
    for line in shown.splitlines():
        hit = GREP_LINE.match(line)
        if line == "--" or NOTE_LINE.match(line):
            text.append(line, style="dim")
        elif hit:
            text.append(hit["path"], style="magenta")
            text.append(hit["sep"], style="dim")
            text.append(hit["line"], style="green")
            text.append(hit["sep"], style="dim")
            body = Text(hit["text"])
            if regex is not None and hit["sep"] == ":":
                body.highlight_regex(regex, style="bold red")
            text.append_text(body)
        else:
            text.append(line)
        text.append("\n")
    text.rstrip()
    return text


def render_result(name: str, arguments: dict[str, Any], shown: str, theme: str) -> RenderableType:
    if name == "bash":
        return bash_text(shown)
    if name == "grep":
        return grep_text(shown, arguments.get("pattern"), bool(arguments.get("ignore_case")))
    return Syntax(shown, result_lexer(name, arguments), theme=theme, word_wrap=True)
