"""Corrupted renderings of correct calls, one generator per way models get tool calls wrong.

They feed the repair benchmark (`evals/bench_toolcalls_repair.py`) and its floor test. A generator
takes the ground-truth calls and their schemas and returns (text, the format the model was asked for,
the calls a perfect parser should return), or None when the shape does not apply to that case.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mimo_agent.toolcalls.calls import ParseResult
from mimo_agent.toolcalls.convert import same_value
from mimo_agent.toolcalls.formats import render_hermes, render_value, render_xml
from mimo_agent.toolcalls.parser import parse
from mimo_agent.toolcalls.toolset import ToolSet
from mimo_agent.toolcalls.validate import validate_arguments

Calls = list[dict[str, Any]]
Schemas = dict[str, dict[str, Any]]
Generated = tuple[str, str, Calls]


@dataclass(frozen=True)
class Shape:
    """A failure shape: its generator, and what the parser must record on the call the shape corrupted:
    one of `rules` among its repairs, or, for a shape whose right answer is an error, `error` in a message."""

    name: str
    make: Callable[[Calls, Schemas, random.Random], Generated | None]
    rules: tuple[str, ...] = ()
    error: str | None = None

    @property
    def must_fail(self) -> bool:
        return self.error is not None

    def recorded(self, result: ParseResult) -> bool:
        """Whether some call carries the shape's own rule (or error); other calls may be untouched."""
        if self.error is not None:
            return any(self.error in e.message for c in result.failed_calls for e in c.errors)
        return any(rule in c.repairs for c in result.calls for rule in self.rules)


_PROSE = ("", "", "Let me check that.\n", "Sure, calling the tool now: ", "I'll use a tool for this.\n\n")


def _prose(rng: random.Random) -> str:
    return rng.choice(_PROSE)


def _xml(calls: Calls, schemas: Schemas, rng: random.Random | None = None) -> str:
    """The calls in XML; with `rng`, a third of the time in the compact layout."""
    compact = rng is not None and rng.random() < 0.3
    return "".join(render_xml(c["name"], c["arguments"], schemas[c["name"]], compact) for c in calls)


def _json_obj(call: dict[str, Any]) -> str:
    return json.dumps({"name": call["name"], "arguments": call["arguments"]}, ensure_ascii=False)


def content_no_tags(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    body = " ".join(_json_obj(c) for c in calls)
    return f"Let me look that up for you. {body}", "json", calls


def missing_open_tag(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    text = _xml(calls, schemas, rng).replace("<tool_call>\n", "").replace("<tool_call>", "")
    return _prose(rng) + text, "xml", calls


def missing_close_tags(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    text = _xml(calls, schemas).replace("\n</tool_call>", "")
    return (text if rng.random() < 0.5 else text.replace("</function>", "")), "xml", calls


def call_in_think(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    return f"<think>The user wants this. {_xml(calls, schemas, rng)}</think>", "xml", calls


def wrong_type_values(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated | None:
    """Non-string values sent as strings ("5", "false", "[1, 2]") where the schema declares their type."""
    out, changed = [], False
    for c in calls:
        props = schemas[c["name"]].get("properties", {})
        args = {}
        for k, v in c["arguments"].items():
            typed = props.get(k, {}).get("type") not in (None, "string")
            args[k] = json.dumps(v) if typed and v is not None and not isinstance(v, str) else v
            changed = changed or args[k] is not v
        out.append(render_hermes(c["name"], args))
    return ("".join(out), "json", calls) if changed else None


def double_encoded(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    bodies = [json.dumps({"name": c["name"], "arguments": json.dumps(c["arguments"])}) for c in calls]
    return "".join(f"<tool_call>\n{b}\n</tool_call>" for b in bodies), "json", calls


def json_for_xml(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    return _prose(rng) + "".join(render_hermes(c["name"], c["arguments"]) for c in calls), "xml", calls


def xml_for_json(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    return _xml(calls, schemas), "json", calls


def bare_json(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    if len(calls) > 1 and rng.random() < 0.5:
        items = [{"name": c["name"], "arguments": c["arguments"]} for c in calls]
        return _prose(rng) + json.dumps(items, ensure_ascii=False), "xml", calls
    return _prose(rng) + "\n".join(_json_obj(c) for c in calls), "xml", calls


def wrapper_tags(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    tag = rng.choice(["tool_calls", "function_calls", "invoke", "action", "calls", "response"])
    return f"{_prose(rng)}<{tag}>\n{_xml(calls, schemas, rng)}\n</{tag}>", "xml", calls


def markdown_fence(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    if rng.random() < 0.5:
        return f"Here is the call:\n```xml\n{_xml(calls, schemas)}\n```", "xml", calls
    return "```json\n" + "\n".join(_json_obj(c) for c in calls) + "\n```", "json", calls


def _kimi(calls: Calls) -> str:
    items = "".join(
        f"<|tool_call_begin|> functions.{c['name']}:{i} <|tool_call_argument_begin|> "
        f"{json.dumps(c['arguments'], ensure_ascii=False)} <|tool_call_end|>"
        for i, c in enumerate(calls)
    )
    return f"<|tool_calls_section_begin|>{items}<|tool_calls_section_end|>"


def _deepseek(calls: Calls) -> str:
    items = "".join(
        f"<｜tool▁call▁begin｜>function<｜tool▁sep｜>{c['name']}\n```json\n"
        f"{json.dumps(c['arguments'], ensure_ascii=False)}\n```<｜tool▁call▁end｜>"
        for c in calls
    )
    return f"<｜tool▁calls▁begin｜>{items}<｜tool▁calls▁end｜>"


def _invoke(calls: Calls, schemas: Schemas) -> str:
    def params(c: dict[str, Any]) -> str:
        props = schemas[c["name"]].get("properties", {})
        return "".join(
            f'<parameter name="{k}">{render_value(v, props.get(k))}</parameter>\n'
            for k, v in c["arguments"].items()
        )

    items = "".join(f'<invoke name="{c["name"]}">\n{params(c)}</invoke>\n' for c in calls)
    return f"<function_calls>\n{items}</function_calls>"


def _glm(calls: Calls, schemas: Schemas) -> str:
    def pairs(c: dict[str, Any]) -> str:
        props = schemas[c["name"]].get("properties", {})
        return "".join(
            f"<arg_key>{k}</arg_key>\n<arg_value>{render_value(v, props.get(k))}</arg_value>\n"
            for k, v in c["arguments"].items()
        )

    return "".join(f"<tool_call>{c['name']}\n{pairs(c)}</tool_call>" for c in calls)


def foreign_tokens(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    """Kimi, DeepSeek, Mistral, Llama, Claude and GLM call layouts."""
    kind = rng.choice(["kimi", "deepseek", "mistral", "llama", "claude", "glm"])
    if kind == "kimi":
        return _kimi(calls), "xml", calls
    if kind == "deepseek":
        return _deepseek(calls), "xml", calls
    if kind == "claude":
        return _invoke(calls, schemas), "xml", calls
    if kind == "glm":
        return _glm(calls, schemas), "xml", calls
    items = [{"name": c["name"], "arguments": c["arguments"]} for c in calls]
    if kind == "mistral":
        return "[TOOL_CALLS]" + json.dumps(items, ensure_ascii=False), "xml", calls
    return "<|python_tag|>" + ";".join(json.dumps(i, ensure_ascii=False) for i in items), "xml", calls


def parameters_key(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    bodies = [
        json.dumps({"name": c["name"], "parameters": c["arguments"]}, ensure_ascii=False) for c in calls
    ]
    return "".join(f"<tool_call>\n{b}\n</tool_call>" for b in bodies), "json", calls


def functions_prefix(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    text = "".join(render_xml(f"functions.{c['name']}", c["arguments"], schemas[c["name"]]) for c in calls)
    return text, "xml", calls


def _mangle(name: str, rng: random.Random) -> str:
    kind = rng.choice(["case", "drop", "separator", "half"])
    words = name.replace(".", "_").split("_")
    if kind == "half" and len(words) > 2:
        return "_".join(words[1:])
    if kind == "case":
        parts = name.replace(".", "_").split("_")
        camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
        return camel if camel != name else name.upper()
    if kind == "separator" and "_" in name:
        return name.replace("_", "-")
    if len(name) >= 6:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1 :]
    return name.upper()


def mangled_names(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    parts = []
    for c in calls:
        props = schemas[c["name"]].get("properties", {})
        args: dict[str, Any] = {}
        renamed: dict[str, Any] = {}
        for key, value in c["arguments"].items():
            new = _mangle(key, rng) if rng.random() < 0.5 else key
            new = key if new in args or (new != key and new in c["arguments"]) else new  # no collisions
            args[new], renamed[new] = value, props.get(key, {})
        schema = {**schemas[c["name"]], "properties": renamed}
        parts.append(render_xml(_mangle(c["name"], rng), args, schema))
    return "".join(parts), "xml", calls


def close_tag_in_value(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated | None:
    expected = []
    changed = False
    for c in calls:
        props = schemas[c["name"]].get("properties", {})
        args = dict(c["arguments"])
        for k, v in args.items():
            if isinstance(v, str) and props.get(k, {}).get("type") == "string" and "enum" not in props[k]:
                args[k] = f"{v} (ends with </parameter> in text)"
                changed = True
                break
        expected.append({"name": c["name"], "arguments": args})
    return (_xml(expected, schemas), "xml", expected) if changed else None


def concatenated_calls(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated | None:
    if len(calls) < 2:
        return None
    if rng.random() < 0.5:
        inner = "".join(
            _xml([c], schemas).replace("<tool_call>\n", "").replace("\n</tool_call>", "") for c in calls
        )
        return f"<tool_call>\n{inner}</tool_call>", "xml", calls
    return "<tool_call>\n" + "".join(_json_obj(c) for c in calls) + "\n</tool_call>", "json", calls


def truncated_after_value(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated:
    text = _xml(calls, schemas)
    return text[: text.rfind("</function>")], "xml", calls


def truncated_mid_value(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated | None:
    text = _xml(calls, schemas)
    last = text.rfind("</parameter>")
    start = text.rfind(">", 0, last) + 1
    if last < 0 or last - start < 2:
        return None
    return text[: start + (last - start) // 2], "xml", calls


def truncated_json_mid_value(calls: Calls, schemas: Schemas, rng: random.Random) -> Generated | None:
    """Hermes output cut inside the last value: a string, literal or container part-written, or a number
    that may have gone on (`3` of `30`). Closing it would make up a value, so it must be an error."""
    last = calls[-1]
    if not last["arguments"]:
        return None
    body = _json_obj(last)
    final = list(last["arguments"].values())[-1]
    value = json.dumps(final, ensure_ascii=False)
    assert body.endswith(value + "}}"), body
    start = len(body) - 2 - len(value)
    whole = isinstance(final, (int, float)) and not isinstance(final, bool)  # a whole number may go on
    if len(value) < 2 and not whole:
        return None
    cut = body[: start + rng.randint(1, len(value) if whole else len(value) - 1)]
    done = "".join(render_hermes(c["name"], c["arguments"]) for c in calls[:-1])
    return f"{done}<tool_call>\n{cut}", "json", calls


SHAPES: tuple[Shape, ...] = (
    Shape("content_no_tags", content_no_tags, ("bare_json_call",)),
    Shape("missing_open_tag", missing_open_tag, ("missing_open_tag",)),
    # at the end of the output, a call missing its close tags reads as cut off after its last value
    Shape("missing_close_tags", missing_close_tags, ("missing_close_tag", "truncated_call")),
    Shape("call_in_think", call_in_think, ("call_in_think",)),
    Shape("wrong_type_values", wrong_type_values, ("wrong_type_value",)),
    Shape("double_encoded_arguments", double_encoded, ("double_encoded_arguments",)),
    Shape("json_when_xml_expected", json_for_xml, ("json_instead_of_xml",)),
    Shape("xml_when_json_expected", xml_for_json, ("xml_instead_of_json",)),
    Shape("bare_json", bare_json, ("bare_json_call",)),
    Shape("wrapper_tags", wrapper_tags, ("wrapper_tag",)),
    Shape("markdown_fence", markdown_fence, ("markdown_fence",)),
    Shape("foreign_tokens", foreign_tokens, ("foreign_format",)),
    Shape("parameters_key", parameters_key, ("parameters_key",)),
    Shape("functions_prefix", functions_prefix, ("functions_prefix",)),
    Shape("mangled_names", mangled_names, ("fuzzy_tool_name",)),
    Shape("close_tag_in_value", close_tag_in_value, ("close_tag_in_value",)),
    Shape("concatenated_calls", concatenated_calls, ("several_calls_in_one_block",)),
    Shape("truncated_after_value", truncated_after_value, ("truncated_call",)),
    Shape("truncated_mid_value", truncated_mid_value, error="output ended inside the value"),
    Shape("truncated_json_mid_value", truncated_json_mid_value, error="output ended inside the JSON"),
)


def _matches(got: tuple[str, Any], want: Calls) -> bool:
    return any(got[0] == w["name"] and same_value(got[1], w["arguments"]) for w in want)


def _outcome(shape: Shape, result: ParseResult, expected: Calls) -> tuple[bool, int]:
    """(exact, number of valid calls that are not among the expected ones: silently wrong calls)."""
    got = [(c.name, c.arguments) for c in result.calls if c.ok]
    wrong = sum(not _matches(g, expected) for g in got)
    if shape.must_fail:
        return bool(result.failed_calls) and wrong == 0, wrong
    want = [(c["name"], c["arguments"]) for c in expected]
    exact = (
        not result.failed_calls
        and len(got) == len(want)
        and all(g[0] == w[0] and same_value(g[1], w[1]) for g, w in zip(got, want, strict=True))
    )
    return exact, wrong


def run_suite(cases: Sequence[tuple[list[dict[str, Any]], Calls]], seed: int = 0) -> dict[str, Any]:
    """Apply every shape to every case; per shape: applicable cases, exact repairs (or refusals), rate,
    `rule_recorded`: cases where the shape's own rule (or error) was recorded, and `wrong_calls`: valid
    calls that differ from the truth (the failure that must not happen).

    Only cases whose ground truth satisfies its own schema are used: the others cannot come back exact;
    their number is `excluded_questions`.
    """
    rng = random.Random(seed)
    stats = {
        s.name: {"cases": 0, "exact": 0, "wrong_calls": 0, "rule_recorded": 0, "failures": []} for s in SHAPES
    }
    excluded = 0
    for tools, calls in cases:
        tool_set = ToolSet(tools)
        schemas = tool_set.schemas
        if any(validate_arguments(c["arguments"], schemas.get(c["name"])) for c in calls):
            excluded += 1
            continue
        for shape in SHAPES:
            made = shape.make(calls, schemas, rng)
            if made is None:
                continue
            text, fmt, expected = made
            result = parse(text, tool_set, fmt)  # type: ignore[arg-type]
            entry = stats[shape.name]
            entry["cases"] += 1
            good, wrong = _outcome(shape, result, expected)
            entry["exact"] += good
            entry["wrong_calls"] += wrong
            entry["rule_recorded"] += shape.recorded(result)
            if not good and len(entry["failures"]) < 3:
                entry["failures"].append(text[:200])
    total = sum(e["cases"] for e in stats.values())
    exact = sum(e["exact"] for e in stats.values())
    per_shape = {
        name: {**e, "rate": round(e["exact"] / e["cases"], 4) if e["cases"] else None}
        for name, e in stats.items()
    }
    wrong = sum(e["wrong_calls"] for e in stats.values())
    rate = round(exact / total, 4) if total else None
    return {
        "cases": total,
        "exact": exact,
        "rate": rate,
        "wrong_calls": wrong,
        "excluded_questions": excluded,
        "shapes": per_shape,
    }
