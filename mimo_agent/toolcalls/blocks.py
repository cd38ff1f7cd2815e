"""Reading the body of one call region (XML, JSON or another model's layout) into RawCalls."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mimo_agent.toolcalls.build import RawCall
from mimo_agent.toolcalls.calls import ArgError
from mimo_agent.toolcalls.jsontext import DECODER, close_json, loads, repair

FUNCTION_OPEN = re.compile(r"<function=([^>\n]*)>")
PARAM_OPEN = re.compile(r"<parameter=([^>\n]*)>")
INVOKE_OPEN = re.compile(r"<invoke\s+name=\"([^\"\n]*)\"\s*>")
_INVOKE_PARAM = re.compile(r"<parameter\s+name=\"([^\"\n]*)\"\s*>")
_BARE_NAME = re.compile(r"[A-Za-z_][\w.:-]*")
_GLM_PAIR = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)(?:</arg_value>|\Z)", re.S)


@dataclass(frozen=True)
class Layout:
    """The tags of one XML call layout: MiMo/Qwen3-Coder `<function=N>`, or `<invoke name="N">` (Claude)."""

    function_open: re.Pattern[str]
    function_close: str
    param_open: re.Pattern[str]
    source: str


QWEN_XML = Layout(FUNCTION_OPEN, "</function>", PARAM_OPEN, "xml")
INVOKE_XML = Layout(INVOKE_OPEN, "</invoke>", _INVOKE_PARAM, "foreign")
_ARG_KEYS = ("arguments", "parameters", "args", "input", "params")
_NAME_KEYS = ("name", "tool_name", "tool", "function_name")
_FENCE = re.compile(r"^\s*```[\w-]*[ \t]*\n(.*?)\n?```\s*$", re.S)


def strip_value_newlines(raw: str) -> str:
    """Qwen3-Coder puts values on their own line (`>\\nV\\n<`); one newline on each side is layout, not value."""
    return raw[1:-1] if len(raw) >= 2 and raw.startswith("\n") and raw.endswith("\n") else raw


def read_arguments(
    value: Any, raw: str, encoded: bool = False
) -> tuple[dict[str, Any], list[str], list[ArgError]]:
    """Arguments from a JSON-like source: a dict, a (possibly double-encoded) JSON string, or broken JSON.

    `encoded` says a JSON string is the normal form (OpenAI `tool_calls`); otherwise a string is a
    double encoding and is recorded as a repair.
    """
    repairs: list[str] = []
    decodes = 0
    while isinstance(value, str) and decodes < 3:
        decodes += 1
        if not value.strip():
            value = {}
            break
        try:
            value = loads(value)
        except (ValueError, RecursionError):
            fixed = repair(value)
            if not isinstance(fixed, dict) or not fixed:
                return (
                    {},
                    repairs,
                    [ArgError("", "a JSON object of arguments", value[:80], "arguments are not JSON")],
                )
            repairs.append("broken_json")
            value = fixed
    if decodes > (1 if encoded else 0):
        repairs.append("double_encoded_arguments")
    if value is None:
        value = {}
    if not isinstance(value, dict):
        got = json.dumps(value, default=repr)[:80]
        return {}, repairs, [ArgError("", "a JSON object of arguments", got, "arguments are not an object")]
    return value, repairs, []


def call_from_json(obj: Any, raw: str) -> RawCall | None:
    """A call from a decoded JSON object in any of the usual shapes; None when it does not look like a call."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):
        fn = dict(obj["function"])
        if "arguments" in obj and "arguments" not in fn:
            fn["arguments"] = obj["arguments"]
        return call_from_json(fn, raw)
    name_key = next((k for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name_key is None and isinstance(obj.get("function"), str):
        name_key = "function"
    if name_key is None:
        return None
    arg_key = next((k for k in _ARG_KEYS if k in obj), None)
    repairs: list[str] = []
    if arg_key is None:
        rest = {k: v for k, v in obj.items() if k not in (name_key, "id", "type")}
        if rest:
            repairs.append("flat_arguments")
        args, more, problems = rest, [], []
    else:
        if arg_key != "arguments":
            repairs.append("parameters_key")
        args, more, problems = read_arguments(obj[arg_key], raw)
    return RawCall(obj[name_key], args, True, "json", raw, repairs + more, problems)


def _decode_all(text: str) -> list[Any] | None:
    """Every JSON value in `text`, back to back (separated by blanks, commas or semicolons); None if any breaks."""
    values, pos = [], 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,;":
            pos += 1
        if pos >= len(text):
            return values
        try:
            value, pos = DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return None
        values.append(value)


def parse_json_body(text: str, truncated: bool) -> tuple[list[RawCall], list[str], str | None]:
    """Calls in a JSON body; returns (calls, repairs for the region, error text or None)."""
    repairs: list[str] = []
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
        repairs.append("markdown_fence")
    values = _decode_all(text)
    if values is None and truncated:
        closed = close_json(text.strip())
        values = _decode_all(closed) if closed else None
        if values is None:
            return [], repairs, "output ended inside the JSON arguments"
        repairs.append("truncated_call")
    if values is None:
        fixed = repair(text)
        if not isinstance(fixed, (dict, list)) or not fixed:
            return [], repairs, "call body is not valid JSON (or ends inside a string)"
        values = [fixed]
        repairs.append("broken_json")
    flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
    calls = [call_from_json(v, json.dumps(v, ensure_ascii=False)) for v in flat]
    if not calls or any(c is None for c in calls):
        return [], repairs, "JSON body has no call name"
    if len(calls) > 1:
        repairs.append("several_calls_in_one_block")
    return [c for c in calls if c is not None], repairs, None


def _xml_params(inner: str, closed: bool, truncated: bool, raw: str, layout: Layout) -> RawCall:
    starts = list(layout.param_open.finditer(inner))
    args: dict[str, str] = {}
    repairs: list[str] = []
    problems: list[ArgError] = []
    for i, m in enumerate(starts):
        name = m.group(1).strip()
        region = inner[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(inner)]
        end = region.rfind("</parameter>")
        if end >= 0:
            if region.count("</parameter>") > 1:
                repairs.append("close_tag_in_value")
            value = region[:end]
        elif truncated and not closed and i == len(starts) - 1:
            problems.append(
                ArgError(name, "a complete value", "cut off", f"output ended inside the value of {name!r}")
            )
            continue
        else:
            repairs.append("missing_close_tag")
            value = region[:-1] if region.endswith("\n") else region
        if name in args:
            problems.append(ArgError(name, "each parameter once", name, f"parameter {name!r} given twice"))
        args[name] = strip_value_newlines(value)
    return RawCall("", args, False, layout.source, raw, repairs, problems)


def parse_xml_body(text: str, truncated: bool, layout: Layout = QWEN_XML) -> tuple[list[RawCall], list[str]]:
    """Calls in an XML body: `<function=N>` … `</function>`, several functions split into several calls."""
    opens = list(layout.function_open.finditer(text))
    calls, repairs = [], []
    if len(opens) > 1:
        repairs.append("several_calls_in_one_block")
    for i, m in enumerate(opens):
        segment = text[m.end() : opens[i + 1].start() if i + 1 < len(opens) else len(text)]
        close = segment.rfind(layout.function_close)
        closed = close >= 0
        inner = segment[:close] if closed else segment
        raw = text[m.start() : m.end() + (close + len(layout.function_close) if closed else len(segment))]
        call = _xml_params(inner, closed, truncated, raw, layout)
        call.name = m.group(1).strip()
        if not closed and not truncated:
            call.repairs.append("missing_close_tag")
        elif not closed and not call.problems:
            call.repairs.append("truncated_call")
        calls.append(call)
    return calls, repairs


def _glm_body(body: str, truncated: bool) -> list[RawCall]:
    """GLM-4.5's layout: `NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>…` inside `<tool_call>`
    (just `NAME` for a call without arguments)."""
    name = body.split("<arg_key>", 1)[0].strip()
    args: dict[str, str] = {}
    problems: list[ArgError] = []
    for m in _GLM_PAIR.finditer(body):
        key = m.group(1).strip()
        if not m.group(0).endswith("</arg_value>") and truncated:
            problems.append(
                ArgError(key, "a complete value", "cut off", f"output ended inside the value of {key!r}")
            )
            continue
        args[key] = m.group(2)
    return [RawCall(name, args, False, "foreign", body, ["foreign_format"], problems)]


def parse_body(body: str, truncated: bool = False) -> tuple[list[RawCall], str | None]:
    """The calls inside one `<tool_call>` region in whatever layout it uses; (calls, error) with error None if ok."""
    if FUNCTION_OPEN.search(body):
        calls, repairs = parse_xml_body(body, truncated)
    elif INVOKE_OPEN.search(body):
        calls, repairs = parse_xml_body(body, truncated, INVOKE_XML)
        repairs.insert(0, "foreign_format")
    elif "<arg_key>" in body or _BARE_NAME.fullmatch(body.strip()):
        calls, repairs = _glm_body(body, truncated), []
    else:
        calls, repairs, error = parse_json_body(body, truncated)
        if error:
            return [], error
    for call in calls:
        call.repairs[:0] = repairs
    return calls, None
