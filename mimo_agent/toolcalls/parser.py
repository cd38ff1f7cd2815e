"""Incremental parser over text deltas: text, reasoning and tool-call events, never part of a tag as text.

Well-formed `<tool_call>` blocks are parsed as they close. Anything that looks like a call written
another way (a bare `<function=`, JSON with a "name", another model's tokens, a fenced or wrapped
call) is held from that point to the end of the output and handed to the repair extractor, because
only the whole text can tell what it was. Decisions depend on the text, never on how it was chunked,
so `parse(text)` equals any streamed run (after `normalise`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import regex

from mimo_agent.toolcalls.blocks import parse_body
from mimo_agent.toolcalls.build import RawCall, build_call
from mimo_agent.toolcalls.calls import ArgError, ParseResult, ToolCall
from mimo_agent.toolcalls.events import (
    CallArgumentsDelta,
    CallCompleted,
    CallFailed,
    CallStarted,
    Event,
    ReasoningDelta,
    TextDelta,
    collect,
)
from mimo_agent.toolcalls.extract import Region, extract
from mimo_agent.toolcalls.formats import from_openai
from mimo_agent.toolcalls.toolset import ToolSet

FormatName = Literal["auto", "xml", "json"]

_CALL_ANCHOR = r"<tool_call>|<function=|<invoke\s+name=|\{\s*\"(?:name|function)\"\s*:|\[\s*\{\s*\"name\"\s*:"
_SUSPECT = (
    r"<function=|<invoke\s+name=|</tool_call>|<\|tool_call|<｜tool▁call|\[TOOL_CALLS\]|<\|python_tag\|>"
    r"|\{\s*\"(?:name|function|tool_name|tool)\"\s*:|\[\s*\{\s*\"(?:name|function)\"\s*:"
    rf"|```[\w-]*[ \t]*\n\s*(?:{_CALL_ANCHOR})"
    rf"|<[A-Za-z_][\w.:-]*(?:[ \t][^<>\n]*)?>\s*(?:{_CALL_ANCHOR}|```[\w-]*[ \t]*\n\s*(?:{_CALL_ANCHOR}))"
)
_TEXT_RE = regex.compile(
    rf"(?P<call><tool_call>)|(?P<think><think>)|(?P<unthink></think>)|(?P<suspect>{_SUSPECT})"
)
_THINK_RE = regex.compile(r"(?P<unthink></think>)|(?P<call><tool_call>)")
_CALL_RE = regex.compile(r"(?P<close></tool_call>)|(?P<next><tool_call>)")
_TEXT_STARTS = regex.compile(r"[<{\[`]")
_TAG_STARTS = regex.compile(r"<")
_NAME_STARTS = regex.compile(r"[<\"]")
_LONGEST_CALL_TAG = len("</tool_call>")
_NAME_WINDOW = 256
_NAME_RE = regex.compile(r"<function=([^>\n]*)>|\"name\"\s*:\s*\"([^\"\\]*)\"")


def find(
    pattern: regex.Pattern[str], starts: regex.Pattern[str], buf: str, pos: int, end: int, final: bool
) -> tuple[regex.Match[str] | None, int | None]:
    """(leftmost full match, None), or (None, hold) when a tag cut by the end of `buf[:end]` starts earlier.

    `regex`'s own partial search prefers a later full match to an earlier partial one, which would make
    decisions depend on where the chunks were cut; `starts` matches the first characters tags can have.
    """
    full = pattern.search(buf, pos, end)
    if final:
        return full, None
    for first in starts.finditer(buf, pos, full.start() if full else end):
        m = pattern.match(buf, first.start(), end, partial=True)
        if m is not None and m.partial:
            return None, first.start()
    return full, None


class StreamParser:
    """Feed model output in any chunks; get events. Call `finish()` once at the end of the output.

    `fmt` is the format the model was asked for: "xml" or "json" records a repair when the other one
    arrives; "auto" takes either silently. `in_reasoning` starts inside `<think>` (for prompts that
    open it).
    """

    def __init__(
        self,
        tools: ToolSet | Iterable[Any] | None = None,
        fmt: FormatName = "auto",
        in_reasoning: bool = False,
    ):
        self.tools = ToolSet.of(tools)
        self.fmt = fmt
        self._buf = ""
        self._pos = 0
        self._state = "think" if in_reasoning else "text"
        self._call_start = 0  # index of "<tool_call>" of the open block
        self._call_in_think = False
        self._started: int | None = None  # index of the open block's CallStarted, once its name is known
        self._args_from = 0  # first body offset not yet sent as CallArgumentsDelta
        self._next_index = 0
        self._think_calls: list[ToolCall] = []
        self._calls_outside = 0
        self._events: list[Event] = []
        self._truncated = True
        self._scanned = 0  # in a call body: where the next search for its close tag starts

    # -- public ---------------------------------------------------------------------------------------
    def feed(self, delta: str) -> list[Event]:
        self._buf += delta
        return self._advance(final=False)

    def finish(self, truncated: bool = True) -> list[Event]:
        """End of output. `truncated=False` (the model stopped by itself) lets a call that lacks only its
        closing tags keep its last value; by default an unclosed value is treated as cut off.
        """
        self._truncated = truncated
        events = self._advance(final=True)
        if self._calls_outside == 0:
            for call in self._think_calls:
                call.repairs.insert(0, "call_in_think")
                events += self._emit_call(call, None)
        self._think_calls = []
        self._events += events
        return events

    @property
    def result(self) -> ParseResult:
        """The turn so far (complete after `finish`): what a streaming caller stores once the stream ends."""
        return collect(self._events)

    # -- machinery -----------------------------------------------------------------------------------
    def _advance(self, final: bool) -> list[Event]:
        out: list[Event] = []
        while True:
            step = getattr(self, f"_step_{self._state}")(final, out)
            if not step:
                break
        if not final:
            self._events += out
        return out

    def _step_text(self, final: bool, out: list[Event]) -> bool:
        m, hold = find(_TEXT_RE, _TEXT_STARTS, self._buf, self._pos, len(self._buf), final)
        end = hold if hold is not None else m.start() if m else len(self._buf)
        out.append(TextDelta(self._buf[self._pos : end]))
        self._pos = end
        if m is None:
            return False
        if m.group("call"):
            self._open_call(m.end(), in_think=False)
        elif m.group("think"):
            self._pos, self._state = m.end(), "think"
        elif m.group("unthink"):
            self._pos = m.end()
        else:
            self._state = "suspect"
        return True

    def _step_think(self, final: bool, out: list[Event]) -> bool:
        m, hold = find(_THINK_RE, _TAG_STARTS, self._buf, self._pos, len(self._buf), final)
        end = hold if hold is not None else m.start() if m else len(self._buf)
        out.append(ReasoningDelta(self._buf[self._pos : end]))
        self._pos = end
        if m is None:
            return False
        if m.group("call"):
            self._open_call(m.end(), in_think=True)
        else:
            self._pos, self._state = m.end(), "text"
        return True

    def _open_call(self, body_start: int, in_think: bool) -> None:
        self._call_start, self._pos = self._pos, body_start
        self._args_from = body_start
        self._call_in_think, self._started, self._state = in_think, None, "call"
        self._scanned = body_start

    def _step_call(self, final: bool, out: list[Event]) -> bool:
        # The close tags are literals, so text scanned without a match never needs scanning again.
        start = max(self._pos, self._scanned)
        m, hold = find(_CALL_RE, _TAG_STARTS, self._buf, start, len(self._buf), final)
        safe = hold if hold is not None else m.start() if m else len(self._buf)
        self._scanned = safe if m or hold is not None else max(start, len(self._buf) - _LONGEST_CALL_TAG)
        body_start = self._call_start + len("<tool_call>")
        if not self._call_in_think:
            self._progress(body_start, safe, out)
        if m is None and final:
            self._finish_region(self._call_start, out)
            return False
        if m is None:
            return False
        body = self._buf[body_start : m.start()]
        calls, error = parse_body(body)
        if m.group("next"):
            for call in calls:
                call.repairs.insert(0, "missing_close_tag")
            self._pos = m.start()
        else:
            self._pos = m.end()
        region = Region(self._buf[self._call_start : self._pos], calls, error)
        self._state = "think" if self._call_in_think else "text"
        if self._call_in_think:
            self._think_calls += self._build(region)
        else:
            out += self._emit_region(region, self._started)
        self._started = None
        return True

    def _progress(self, body_start: int, safe: int, out: list[Event]) -> None:
        if self._started is None:
            # The name comes first in every layout; looking only near the start keeps long bodies linear.
            window = min(safe, body_start + _NAME_WINDOW)
            name, _ = find(_NAME_RE, _NAME_STARTS, self._buf, body_start, window, final=False)
            if name is None:
                return
            self._started = self._new_index()
            out.append(CallStarted(self._started, (name.group(1) or name.group(2) or "").strip()))
            self._args_from = name.end()
        if safe > self._args_from:
            out.append(CallArgumentsDelta(self._started, self._buf[self._args_from : safe]))
            self._args_from = safe

    def _step_suspect(self, final: bool, out: list[Event]) -> bool:
        if final:
            self._finish_region(self._pos, out)
        return False

    def _finish_region(self, start: int, out: list[Event]) -> None:
        """End of output inside a call or a suspect stretch: let the extractor read the rest."""
        started = self._started if self._state == "call" else None
        in_think = self._state == "call" and self._call_in_think
        for piece in extract(self._buf[start:], self.tools, self._truncated):
            if isinstance(piece, str):
                out.append(ReasoningDelta(piece) if in_think else TextDelta(piece))
            elif in_think:
                self._think_calls += self._build(piece)
            else:
                out += self._emit_region(piece, started)
                started = None
        if started is not None:
            out.append(CallFailed(started, self._failed(self._buf[start:], "output ended before the call")))
        self._pos, self._started = len(self._buf), None

    # -- calls ---------------------------------------------------------------------------------------
    def _new_index(self) -> int:
        self._next_index += 1
        return self._next_index - 1

    def _failed(self, raw: str, message: str) -> ToolCall:
        name = _NAME_RE.search(raw)
        guess = (name.group(1) or name.group(2) or "").strip() if name else ""
        snippet = raw if len(raw) <= 80 else raw[:79] + "…"
        return ToolCall(guess, {}, "", [], raw, [ArgError("", "a well-formed tool call", snippet, message)])

    def _build(self, region: Region) -> list[ToolCall]:
        if region.error is not None:
            return [self._failed(region.raw, region.error)]
        return [build_call(raw, self.tools, self.fmt) for raw in region.calls if isinstance(raw, RawCall)]

    def _emit_region(self, region: Region, started: int | None) -> list[Event]:
        out: list[Event] = []
        for call in self._build(region):
            out += self._emit_call(call, started)
            started = None
        return out

    def _emit_call(self, call: ToolCall, started: int | None) -> list[Event]:
        out: list[Event] = []
        if started is None:
            started = self._new_index()
            out.append(CallStarted(started, call.name))
        self._calls_outside += 1
        out.append(CallCompleted(started, call) if call.ok else CallFailed(started, call))
        return out


def parse_events(
    text: str,
    tools: ToolSet | Iterable[Any] | None = None,
    fmt: FormatName = "auto",
    in_reasoning: bool = False,
    truncated: bool = True,
) -> list[Event]:
    parser = StreamParser(tools, fmt, in_reasoning)
    return parser.feed(text) + parser.finish(truncated)


def parse(
    text: str,
    tools: ToolSet | Iterable[Any] | None = None,
    fmt: FormatName = "auto",
    in_reasoning: bool = False,
    truncated: bool = True,
    native_calls: Iterable[Any] | None = None,
) -> ParseResult:
    """One-shot parse of a whole model output; the same result as streaming it in any chunks.

    `native_calls` are OpenAI `tool_calls` entries a server returned beside the text; they are read
    (and repaired) too and come after the calls found in the text. Call ids are left empty except
    for native calls, so the agent can give ids unique across its conversation.
    """
    tool_set = ToolSet.of(tools)
    result = collect(parse_events(text, tool_set, fmt, in_reasoning, truncated))
    result.calls += [from_openai(entry, tool_set) for entry in native_calls or ()]
    return result
