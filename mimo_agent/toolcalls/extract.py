"""Finding calls anywhere in unconstrained text: the repair side of parsing.

Used on regions the streaming parser could not read as well-formed `<tool_call>` blocks. Each way a
model writes a call outside the expected format is one anchor here; the repair rule that fired is
recorded on the call. Text that is not a call stays text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from mimo_agent.toolcalls.blocks import (
    INVOKE_XML,
    QWEN_XML,
    Layout,
    call_from_json,
    parse_body,
    read_arguments,
)
from mimo_agent.toolcalls.build import RawCall
from mimo_agent.toolcalls.calls import ArgError
from mimo_agent.toolcalls.jsontext import DECODER, close_json, loads
from mimo_agent.toolcalls.toolset import ToolSet


@dataclass
class Region:
    """A stretch of text that holds calls, or could not be read (then `error` says why)."""

    raw: str
    calls: list[RawCall] = field(default_factory=list)
    error: str | None = None


Piece = str | Region

_KIMI_CALL = re.compile(
    r"<\|tool_call_begin\|>\s*(?P<name>.*?)\s*<\|tool_call_argument_begin\|>\s*(?P<args>.*?)\s*(?:(?P<end><\|tool_call_end\|>)|\Z)",
    re.S,
)
_KIMI = re.compile(
    r"(?:<\|tool_calls_section_begin\|>\s*)?(?:\s*"
    + _KIMI_CALL.pattern
    + r")+\s*(?:<\|tool_calls_section_end\|>)?",
    re.S,
)
_DS_CALL = re.compile(
    r"<｜tool▁call▁begin｜>(?:function<｜tool▁sep｜>)?(?P<name>[^\n<｜]+?)\s*(?:<｜tool▁sep｜>|\n)"
    r"(?P<args>.*?)(?:(?P<end><｜tool▁call▁end｜>)|\Z)",
    re.S,
)
_DS = re.compile(
    r"(?:<｜tool▁calls▁begin｜>\s*)?(?:\s*" + _DS_CALL.pattern + r")+\s*(?:<｜tool▁calls▁end｜>)?", re.S
)
_ANCHOR = re.compile(
    r"(?P<block><tool_call>)|(?P<function><function=)|(?P<invoke><invoke\s+name=)"
    r"|(?P<kimi><\|tool_call(?:s_section)?_begin\|>)"
    r"|(?P<ds><｜tool▁calls?▁begin｜>)|(?P<lead>\[TOOL_CALLS\]|<\|python_tag\|>)"
    r"|(?P<json>\{\s*\"(?:name|function|tool_name|tool)\"\s*:|\[\s*\{\s*\"(?:name|function)\"\s*:)"
)
_FENCE_BEFORE = re.compile(r"```[\w-]*[ \t]*\n\s*\Z")
_FENCE_AFTER = re.compile(r"\A\s*```[ \t]*\n?")
_TAG_BEFORE = re.compile(r"<(?P<tag>[A-Za-z_][\w.:-]*)(?:\s[^<>\n]*)?>\s*\Z")
_STRAY_CLOSE = re.compile(r"\s*</tool_call>")
_SEPARATOR = re.compile(r"\s*[;,]\s*")


def _fenced_args(text: str) -> str:
    m = re.fullmatch(r"\s*```[\w-]*\s*\n?(.*?)\n?```\s*", text, re.S)
    return m.group(1) if m else text


def _cut_arguments(text: str) -> tuple[str | None, list[str]]:
    """Arguments of a call the output ended in: as written when complete, closed when cut between two
    parameters (rule `truncated_call`), None when cut inside a value."""
    try:
        loads(text)
    except (ValueError, RecursionError):
        closed = close_json(text.strip(), depth=1)
        return closed, ["truncated_call"] if closed else []
    return text, []


def _foreign(match: re.Match[str], call_re: re.Pattern[str], rule: str, cut: bool) -> Region:
    calls = []
    for m in call_re.finditer(match.group(0)):
        name, text, rules = m.group("name").strip(), _fenced_args(m.group("args")), [rule]
        if cut and m.group("end") is None:
            text, more = _cut_arguments(text)
            rules += more
        if text is None:
            cutoff = ArgError("", "a complete value", "cut off", "output ended inside the JSON arguments")
            calls.append(RawCall(name, {}, True, "foreign", m.group(0), rules, [cutoff]))
            continue
        args, repairs, problems = read_arguments(text, m.group(0), encoded=True)
        calls.append(RawCall(name, args, True, "foreign", m.group(0), rules + repairs, problems))
    return Region(match.group(0), calls)


def _block(text: str, start: int, cut: bool) -> tuple[Region, int]:
    body_start = start + len("<tool_call>")
    close = text.find("</tool_call>", body_start)
    nxt = text.find("<tool_call>", body_start)
    if close >= 0 and (nxt < 0 or close < nxt):
        end, body, truncated, repairs = close + len("</tool_call>"), text[body_start:close], False, []
    elif nxt >= 0:
        end, body, truncated, repairs = nxt, text[body_start:nxt], False, ["missing_close_tag"]
    else:
        last = text.rfind("</function>", body_start)
        end = last + len("</function>") if last >= 0 else len(text)
        body, truncated, repairs = text[body_start:end], cut and last < 0, []
    calls, error = parse_body(body, truncated)
    for call in calls:
        call.repairs[:0] = repairs
        if close < 0 and nxt < 0 and not call.problems and "truncated_call" not in call.repairs:
            call.repairs.insert(0, "missing_close_tag")
    return Region(text[start:end], calls, error), end


def _bare_function(text: str, start: int, cut: bool, layout: Layout) -> tuple[Region, int]:
    """A `<function=…>` (or `<invoke name=…>`) call outside any `<tool_call>` block."""
    close = text.find(layout.function_close, start)
    nxt = layout.function_open.search(text, start + 1)
    if close >= 0 and (nxt is None or close < nxt.start()):
        end = close + len(layout.function_close)
        stray = _STRAY_CLOSE.match(text, end)
        end = stray.end() if stray else end
        truncated = False
    else:
        end, truncated = (nxt.start() if nxt else len(text)), cut and nxt is None
    calls, error = parse_body(text[start:end], truncated)
    if layout is QWEN_XML:
        for call in calls:
            call.repairs.insert(0, "missing_open_tag")
    return Region(text[start:end], calls, error), end


def _plausible(call: RawCall | None, tools: ToolSet) -> bool:
    """JSON in prose is a call only with an arguments key and a name that resolves to a tool."""
    if call is None or "flat_arguments" in call.repairs:
        return False
    return tools.schemaless or tools.resolve_tool(call.name).name is not None


def _following(text: str, end: int, items: list, tools: ToolSet) -> tuple[list, int]:
    """Llama's `<|python_tag|>` separates several calls with `;`: take the calls that follow the first."""
    while sep := _SEPARATOR.match(text, end):
        try:
            value, after = DECODER.raw_decode(text, sep.end())
        except (ValueError, RecursionError):
            break
        if not _plausible(call_from_json(value, ""), tools):
            break
        items, end = [*items, value], after
    return items, end


def _bare_json(text: str, start: int, tools: ToolSet, rule: str, cut: bool) -> tuple[Region | None, int]:
    try:
        value, end = DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        closed = close_json(text[start:]) if cut else None
        if closed is None:
            return None, start
        try:
            value, end = loads(closed), len(text)
        except (ValueError, RecursionError):
            return None, start
        rule_extra = ["truncated_call"]
    else:
        rule_extra = []
    items = value if isinstance(value, list) else [value]
    if rule == "foreign_format":
        items, end = _following(text, end, items, tools)
    calls = [call_from_json(v, json.dumps(v, ensure_ascii=False)) for v in items]
    if not calls or not all(_plausible(c, tools) for c in calls):
        return None, start
    for call in calls:
        assert call is not None
        call.repairs[:0] = [rule, *rule_extra]
        call.source = "foreign" if rule == "foreign_format" else call.source
    return Region(text[start:end], [c for c in calls if c is not None]), end


def _find(text: str, tools: ToolSet, cut: bool) -> list[Piece]:
    pieces: list[Piece] = []
    pos = 0
    search_from = 0
    while (m := _ANCHOR.search(text, search_from)) is not None:
        start = m.start()
        region: Region | None
        if m.group("block"):
            region, end = _block(text, start, cut)
        elif m.group("function"):
            region, end = _bare_function(text, start, cut, QWEN_XML)
        elif m.group("invoke"):
            region, end = _bare_function(text, start, cut, INVOKE_XML)
        elif m.group("kimi"):
            km = _KIMI.match(text, start)
            region, end = (_foreign(km, _KIMI_CALL, "foreign_format", cut), km.end()) if km else (None, start)
        elif m.group("ds"):
            dm = _DS.match(text, start)
            region, end = (_foreign(dm, _DS_CALL, "foreign_format", cut), dm.end()) if dm else (None, start)
        elif m.group("lead"):
            region, end = _bare_json(text, m.end(), tools, "foreign_format", cut)
            if region is not None:
                region.raw = text[start:end]
        else:
            region, end = _bare_json(text, start, tools, "bare_json_call", cut)
        if region is None:
            search_from = m.end()
            continue
        if start > pos:
            pieces.append(text[pos:start])
        pieces.append(region)
        pos = search_from = end
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def _unwrap(pieces: list[Piece]) -> list[Piece]:
    """Drop markdown fences and invented wrapper tags that enclose a run of calls."""
    pieces = list(pieces)
    out: list[Piece] = []
    i = 0
    while i < len(pieces):
        if isinstance(pieces[i], str):
            out.append(pieces[i])
            i += 1
            continue
        last = j = i
        while j + 1 < len(pieces) and (isinstance(pieces[j + 1], Region) or not str(pieces[j + 1]).strip()):
            j += 1
            last = j if isinstance(pieces[j], Region) else last
        group = [p for p in pieces[i : last + 1] if isinstance(p, Region)]
        before = out.pop() if out and isinstance(out[-1], str) else ""
        after = pieces[last + 1] if last + 1 < len(pieces) else ""
        after = after if isinstance(after, str) else ""
        while True:
            fence, tag = _FENCE_BEFORE.search(before), _TAG_BEFORE.search(before)
            if fence and (close := _FENCE_AFTER.match(after)):
                rule, before, after = "markdown_fence", before[: fence.start()], after[close.end() :]
            elif tag and (close := re.match(rf"\s*</{re.escape(tag.group('tag'))}>", after)):
                rule, before, after = "wrapper_tag", before[: tag.start()], after[close.end() :]
            else:
                break
            for region in group:
                for call in region.calls:
                    call.repairs.insert(0, rule)
        out += [p for p in (before, *group) if p]
        if last + 1 < len(pieces) and isinstance(pieces[last + 1], str):
            pieces[last + 1] = after
        i = last + 1
    return [p for p in out if p != ""]


def extract(text: str, tools: ToolSet, cut: bool = True) -> list[Piece]:
    """Split text into plain text and regions holding calls; a region's calls carry the rules that fired.

    `cut` says the text may end mid-call (max tokens): an unclosed value there is an error, not a value.
    """
    return _unwrap(_find(text, tools, cut))
