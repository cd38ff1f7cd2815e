"""Typed results of parsing: a tool call, a validation error, the split of a model turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ArgError:
    """One thing wrong with a call, as data the feedback and the CLI can print.

    `path` is `""` for the call itself (unknown tool, unparsable body) and a JSON-pointer-like path such as
    `"city"` or `"items/0/qty"` for an argument.
    """

    path: str
    expected: str
    got: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "expected": self.expected, "got": self.got, "message": self.message}


@dataclass
class ToolCall:
    """A call as parsed: typed arguments, the repair rules that fired, and what was wrong if not valid."""

    name: str
    arguments: dict[str, Any]
    id: str = ""
    repairs: list[str] = field(default_factory=list)
    raw: str = ""
    errors: list[ArgError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass
class ParseResult:
    """A model turn split into visible text, reasoning and calls (valid and failed, in output order)."""

    text: str = ""
    reasoning: str = ""
    calls: list[ToolCall] = field(default_factory=list)

    @property
    def valid_calls(self) -> list[ToolCall]:
        return [c for c in self.calls if c.ok]

    @property
    def failed_calls(self) -> list[ToolCall]:
        return [c for c in self.calls if not c.ok]
