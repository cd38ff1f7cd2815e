"""Grammars that let a model write only valid tool calls (or only a JSON value), compiled once per tool set.

The grammar is an xgrammar structural tag: prose and `<think>…</think>` stay free; once `<tool_call>`
starts, only a declared function name, its declared parameters in declared order, values matching their
schemas (raw text for XML strings, JSON otherwise), required parameters and the closing tags are allowed.
Compiling is the expensive part, so `GrammarCompiler` keeps compiled grammars keyed by a stable hash of
what they depend on: the tools' names and schemas and the options (descriptions do not matter).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import xgrammar as xgr
from transformers import PreTrainedTokenizerBase
from xgrammar.structural_tag import (
    AnyTextFormat,
    Format,
    JSONSchemaFormat,
    SequenceFormat,
    StructuralTag,
    TagFormat,
    TriggeredTagsFormat,
)

from mimo_agent.toolcalls.formats import Format as CallFormat
from mimo_agent.toolcalls.grammar_schema import GrammarError, grammar_schema, normalise
from mimo_agent.toolcalls.toolset import ToolSet

ToolChoice = Literal["auto", "required", "none"] | Mapping[str, Any]
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")
_TRIGGER = "<tool_call>"
_THINK_EXCLUDES = ("<think>", "</think>")
_THINK_ENDS = ("</think>", "</think>\n", "</think>\n\n")


@dataclass(frozen=True)
class _Syntax:
    """How one call format spells a call around its arguments."""

    begin: str  # with {name}
    end: str
    style: Literal["qwen_xml", "json"]
    # Call syntax (besides the `<tool_call>` trigger) kept out of prose and string values: parsers split
    # calls on it, so a value holding it could not be read back.
    markup: tuple[str, ...]


_XML_MARKUP = ("</tool_call>", "<function=", "</function>", "<parameter=", "</parameter>")
_SYNTAX: dict[str, _Syntax] = {
    "xml": _Syntax("<tool_call>\n<function={name}>\n", "</function>\n</tool_call>", "qwen_xml", _XML_MARKUP),
    "xml_compact": _Syntax(
        "<tool_call><function={name}>", "</function></tool_call>", "qwen_xml", _XML_MARKUP
    ),
    "json": _Syntax(
        '<tool_call>\n{{"name": {name}, "arguments": ',
        "}\n</tool_call>",
        "json",
        ("</tool_call>", "<function="),
    ),
}


@dataclass(frozen=True)
class GrammarOptions:
    """What a tool-call grammar allows besides the tools themselves.

    `tool_choice` follows OpenAI: "auto" (prose and any calls), "required" (at least one call, first thing
    after any reasoning), "none" (prose only, no `<tool_call>`), or `{"type": "function", "function":
    {"name": N}}` (exactly one call to N). `reasoning` requires a leading `<think>…</think>` (the prompt
    does not open it), which may be followed by one or two newlines. `max_whitespace` caps runs of blanks inside a call; at least 1, since the XML
    format puts a newline after each parameter.
    """

    format: CallFormat = "xml"
    tool_choice: ToolChoice = "auto"
    reasoning: bool = False
    max_whitespace: int = 4
    parallel_tool_calls: bool = True
    named: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.format not in _SYNTAX:
            raise GrammarError(f"format: expected one of {sorted(_SYNTAX)}, got {self.format!r}")
        if self.max_whitespace < 1:
            raise GrammarError(f"max_whitespace: expected an integer >= 1, got {self.max_whitespace!r}")
        choice = self.tool_choice
        if isinstance(choice, Mapping):
            fn = choice.get("function")
            if (
                choice.get("type") != "function"
                or not isinstance(fn, Mapping)
                or not isinstance(fn.get("name"), str)
            ):
                raise GrammarError(
                    f'tool_choice: expected {{"type": "function", "function": {{"name": …}}}}, got {choice!r}'
                )
            object.__setattr__(self, "named", fn["name"])
        elif choice not in ("auto", "required", "none"):
            raise GrammarError(
                f"tool_choice: expected 'auto', 'required', 'none' or a named function, got {choice!r}"
            )

    def key(self) -> dict[str, Any]:
        """The options as plain JSON data, for the cache key."""
        choice = self.tool_choice if self.named is None else {"function": self.named}
        return {**{k: v for k, v in asdict(self).items() if k != "tool_choice"}, "tool_choice": choice}


def _call_tag(syntax: _Syntax, name: str, schema: dict[str, Any], options: GrammarOptions) -> TagFormat:
    spelled = json.dumps(name, ensure_ascii=False) if syntax.style == "json" else name
    content = JSONSchemaFormat(
        json_schema=schema,
        style=syntax.style,
        max_whitespace_cnt=options.max_whitespace,
        # xgrammar drops minLength/maxLength from strings it filters for call markup: real length limits win,
        # but a bare "non-empty" (minLength 1, as on bash's command) does not. Markup inside a value would
        # make the parser read a parameter the grammar never saw; an empty value the validator still reports.
        excludes=[] if _limits_length(schema) else [_TRIGGER, *syntax.markup],
    )
    return TagFormat(begin=syntax.begin.format(name=spelled), content=content, end=syntax.end)


def _limits_length(node: Any) -> bool:
    if isinstance(node, Mapping):
        minimum = node.get("minLength", 0)
        limited = "maxLength" in node or (isinstance(minimum, int) and minimum > 1)
        return limited or any(_limits_length(v) for v in node.values())
    return isinstance(node, list) and any(_limits_length(v) for v in node)


def tool_call_tag(tools: Iterable[Any], options: GrammarOptions) -> StructuralTag:
    """The structural tag for `tools` (ToolDefs or OpenAI tool objects) under `options`."""
    return _structural_tag(ToolSet.of(list(tools)).schemas, options)


def _structural_tag(schemas: Mapping[str, dict[str, Any]], options: GrammarOptions) -> StructuralTag:
    syntax = _SYNTAX[options.format]
    free = [*_THINK_EXCLUDES, *syntax.markup]
    if options.named is not None and options.named not in schemas:
        raise GrammarError(
            f"tool_choice names {options.named!r}, which is not among the tools {sorted(schemas)}"
        )
    if options.tool_choice == "required" and not schemas:
        raise GrammarError("tool_choice 'required' needs at least one tool, got none")
    chosen = [options.named] if options.named is not None else list(schemas)
    tags = [_call_tag(syntax, n, grammar_schema(schemas[n], f"tool {n!r}"), options) for n in chosen]
    body: Format
    if options.tool_choice == "none" or not tags:
        body = AnyTextFormat(excludes=[*free, _TRIGGER])
    else:
        body = TriggeredTagsFormat(
            triggers=[_TRIGGER],
            tags=tags,
            excludes=free,
            at_least_one=options.tool_choice != "auto",
            stop_after_first=options.named is not None or not options.parallel_tool_calls,
        )
    return StructuralTag(format=_with_reasoning(body, options.reasoning, [_TRIGGER, *free]))


def _with_reasoning(body: Format, reasoning: bool, excludes: list[str]) -> Format:
    """`<think>…</think>` (no calls inside), optionally followed by one or two newlines, before `body`.

    The newlines belong to the end tag: as a separate blank-run rule they made the first mask after
    `</think>` cost ~50 ms on a 152k vocabulary instead of < 1 ms.
    """
    if not reasoning:
        return body
    think = TagFormat(begin="<think>", content=AnyTextFormat(excludes=excludes), end=list(_THINK_ENDS))
    return SequenceFormat(elements=[think, body])


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def tokenizer_info(
    tokenizer: PreTrainedTokenizerBase,
    vocab_size: int | None = None,
    stop_tokens: Sequence[str] = STOP_TOKENS,
) -> xgr.TokenizerInfo:
    """xgrammar's view of a HF tokenizer. `vocab_size` is the model's logits width (≥ the tokenizer's when
    the embedding is padded: the padded ids are never allowed). Stop tokens are found by name; without
    any of them the tokenizer's eos is used."""
    vocab = tokenizer.get_vocab()
    stops = [vocab[t] for t in stop_tokens if t in vocab]
    if not stops and tokenizer.eos_token_id is None:
        raise GrammarError(f"tokenizer has none of the stop tokens {list(stop_tokens)} and no eos token")
    return xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stops or None)


class GrammarCompiler:
    """Compiles tool-call and JSON grammars for one tokenizer and keeps the last `max_entries` of them.

    With `lazy_masks` (the default) xgrammar builds each grammar state's token-mask cache when a matcher
    first reaches it instead of at compile time: on a 152k vocabulary a tool set then compiles in well
    under a second instead of tens, and the first turn pays a few hundred ms spread over its tokens.
    """

    def __init__(self, info: xgr.TokenizerInfo, max_entries: int = 64, lazy_masks: bool = True):
        self.info = info
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._compiler = xgr.GrammarCompiler(info, cache_enabled=False, enable_dynamic_compilation=lazy_masks)
        self._cache: OrderedDict[str, xgr.CompiledGrammar] = OrderedDict()

    @classmethod
    def from_tokenizer(
        cls, tokenizer: PreTrainedTokenizerBase, vocab_size: int | None = None, lazy_masks: bool = True
    ) -> GrammarCompiler:
        return cls(tokenizer_info(tokenizer, vocab_size), lazy_masks=lazy_masks)

    def tool_calls(self, tools: Iterable[Any], options: GrammarOptions | None = None) -> xgr.CompiledGrammar:
        """The grammar for calls to `tools` (ToolDefs or OpenAI tool objects)."""
        options = options or GrammarOptions()
        schemas = ToolSet.of(list(tools)).schemas
        key = _digest({"tools": schemas, "options": options.key()})
        return self._cached(key, lambda: self._compile_tools(schemas, options))

    def json_schema(
        self, schema: Mapping[str, Any] | None = None, reasoning: bool = False, max_whitespace: int = 4
    ) -> xgr.CompiledGrammar:
        """A grammar for one JSON value matching `schema` (`None`: any JSON object, OpenAI's `json_object`).

        Without reasoning it is plain JSON with `json.dumps` spacing; with reasoning a `<think>` block
        comes first and blanks between tokens are capped instead.
        """
        target = dict(schema) if schema is not None else {"type": "object"}
        key = _digest({"json_schema": target, "reasoning": reasoning, "max_whitespace": max_whitespace})

        def build() -> xgr.CompiledGrammar:
            try:
                if not reasoning:
                    return self._compiler.compile_json_schema(
                        normalise(target, "json schema"), any_whitespace=False
                    )
                content = JSONSchemaFormat(
                    json_schema=normalise(target, "json schema"), max_whitespace_cnt=max_whitespace
                )
                fmt = _with_reasoning(content, True, [_TRIGGER, *_THINK_EXCLUDES])
                return self._compiler.compile_structural_tag(StructuralTag(format=fmt))
            except RuntimeError as exc:
                raise GrammarError(f"json schema: xgrammar cannot compile it: {_reason(exc)}") from exc

        return self._cached(key, build)

    def _compile_tools(
        self, schemas: dict[str, dict[str, Any]], options: GrammarOptions
    ) -> xgr.CompiledGrammar:
        try:
            return self._compiler.compile_structural_tag(_structural_tag(schemas, options))
        except RuntimeError as exc:
            raise GrammarError(
                f"{self._culprit(schemas, options)}: xgrammar cannot compile it: {_reason(exc)}"
            ) from exc

    def _culprit(self, schemas: dict[str, dict[str, Any]], options: GrammarOptions) -> str:
        """The first tool that fails to compile on its own (the error names it)."""
        single = GrammarOptions(options.format, max_whitespace=options.max_whitespace)
        for name, schema in schemas.items():
            try:
                self._compiler.compile_structural_tag(_structural_tag({name: schema}, single))
            except RuntimeError:
                return f"tool {name!r}"
        return "tool set"

    def _cached(self, key: str, build: Callable[[], xgr.CompiledGrammar]) -> xgr.CompiledGrammar:
        if key in self._cache:
            self.hits += 1
            self._cache.move_to_end(key)
            return self._cache[key]
        self.misses += 1
        compiled = build()
        self._cache[key] = compiled
        if len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return compiled


def _reason(exc: Exception) -> str:
    """xgrammar's C++ message without its timestamp and source location."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    last = lines[-1] if lines else repr(exc)
    return re.sub(r"^\[[\d:]+\] \S+: (Check failed: .*? is false: )?", "", last).strip()
