"""Events of the streaming parser, in output order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mimo_agent.toolcalls.calls import ParseResult, ToolCall


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class CallStarted:
    """A call began; `name` is the name as written (the completed call carries the resolved one)."""

    index: int
    name: str


@dataclass(frozen=True)
class CallArgumentsDelta:
    """Raw text of the call body after its name, as it arrives (for progress display)."""

    index: int
    text: str


@dataclass(frozen=True)
class CallCompleted:
    index: int
    call: ToolCall


@dataclass(frozen=True)
class CallFailed:
    """The call could not be read or is invalid; `call.errors` says why."""

    index: int
    call: ToolCall


Event = TextDelta | ReasoningDelta | CallStarted | CallArgumentsDelta | CallCompleted | CallFailed


def normalise(events: Iterable[Event]) -> list[Event]:
    """Merge adjacent deltas of one kind and drop empty ones, so event lists compare across chunkings."""
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, (TextDelta, ReasoningDelta, CallArgumentsDelta)):
            if not ev.text:
                continue
            last = out[-1] if out else None
            if type(last) is type(ev) and getattr(last, "index", None) == getattr(ev, "index", None):
                out[-1] = type(ev)(**{**vars(last), "text": last.text + ev.text})  # type: ignore[union-attr]
                continue
        out.append(ev)
    return out


def collect(events: Iterable[Event]) -> ParseResult:
    """The turn the events describe: visible text, reasoning and every finished call in order."""
    result = ParseResult()
    for ev in events:
        if isinstance(ev, TextDelta):
            result.text += ev.text
        elif isinstance(ev, ReasoningDelta):
            result.reasoning += ev.text
        elif isinstance(ev, (CallCompleted, CallFailed)):
            result.calls.append(ev.call)
    return result
