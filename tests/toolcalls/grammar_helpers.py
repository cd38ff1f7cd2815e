"""Shared by the grammar tests: the tiny tokenizer, token-by-token walks through a matcher, a closing bias
that lets random logits finish calls (random text almost never spells `</parameter>` by chance), and the
check that a constrained completion is one clean, valid call."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import torch
import xgrammar as xgr
from transformers import PreTrainedTokenizerFast

from mimo_agent.toolcalls.parser import parse
from tests.tiny_tokenizer import build_tiny_tokenizer

MARK = "¦"  # marks, in a test string, the first character the grammar must refuse
CLOSERS = ("</parameter>", "</function>", "</tool_call>", '"', "]", "}", "\n")


@functools.cache
def tiny_tokenizer() -> PreTrainedTokenizerFast:
    with tempfile.TemporaryDirectory() as tmp:
        return build_tiny_tokenizer(Path(tmp))


def stop_id() -> int:
    return tiny_tokenizer().convert_tokens_to_ids("<|im_end|>")


@dataclass
class Walk:
    tokens: list[int]
    rejected: int | None  # index of the first token the matcher refused
    finished: bool  # everything accepted, then the stop token too


def walk(compiled: xgr.CompiledGrammar, text: str) -> Walk:
    tokens = tiny_tokenizer().encode(text, add_special_tokens=False)
    matcher = xgr.GrammarMatcher(compiled)
    for index, token in enumerate(tokens):
        if not matcher.accept_token(token):
            return Walk(tokens, index, False)
    return Walk(tokens, None, matcher.accept_token(stop_id()) and matcher.is_terminated())


def marked(text: str) -> tuple[str, int]:
    """The text without its mark, and the index of the token holding the marked character."""
    offset = text.index(MARK)
    clean = text.replace(MARK, "")
    spans = tiny_tokenizer()(clean, return_offsets_mapping=True, add_special_tokens=False)["offset_mapping"]
    return clean, next(i for i, (start, end) in enumerate(spans) if start <= offset < end)


class ClosingBias:
    """After `patience` tokens, favours tokens that continue spelling a closer (`</parameter>`, `"`, `]`…),
    the more so the longer the output and the further the closer is already spelled.

    The grammar's mask still decides what is allowed, so this bounds the length of random calls without
    choosing what they contain.
    """

    def __init__(self, patience: int = 16, strength: float = 3.0):
        tokenizer = tiny_tokenizer()
        self.texts = [tokenizer.decode([i]) for i in range(len(tokenizer))]
        self.patience = patience
        self.strength = strength
        self._boosts: dict[tuple[tuple[int, ...], int, int], torch.Tensor] = {}
        # For each closer and each length k already written: the tokens that continue it.
        self.table = {
            closer: [
                torch.tensor([t for t, text in enumerate(self.texts) if text and closer[k:].startswith(text)])
                for k in range(len(closer))
            ]
            for closer in CLOSERS
        }

    def bias(self, tail: str, steps: int, vocab: int) -> torch.Tensor:
        """The boost for the next token, given the last characters written and the number of tokens so far."""
        progress = tuple(max(k for k in range(len(c)) if tail.endswith(c[:k])) for c in CLOSERS)
        key = (progress, min(steps, 8 * self.patience), vocab)
        if key not in self._boosts:
            self._boosts[key] = self._boost(*key)
        return self._boosts[key]

    def _boost(self, progress: tuple[int, ...], steps: int, vocab: int) -> torch.Tensor:
        boost = torch.zeros(vocab)
        if steps < self.patience:
            return boost
        weight = self.strength * steps / self.patience
        for done, continuations in zip(progress, self.table.values(), strict=True):
            tokens = continuations[done]
            boost[tokens] = torch.clamp(boost[tokens], min=weight * (1 + done))
        return boost


# xgrammar's XML style admits a few blanks around enum values (as around numbers); the parser strips them
# and records it as `enum_case`. Any other repair means the grammar let something malformed through.
LAYOUT_REPAIRS = {"enum_case"}


def call_problem(text: str | None, tools: list[dict[str, Any]]) -> str | None:
    """What is wrong with a constrained completion, or None: it must be exactly one clean, valid call."""
    if text is None:
        return "no stop token"
    result = parse(text, tools)
    if len(result.calls) != 1 or result.text.strip() or result.reasoning:
        return (
            f"expected one call and nothing else, got {len(result.calls)} calls and text {result.text!r:.60}"
        )
    call = result.calls[0]
    if not call.ok or set(call.repairs) - LAYOUT_REPAIRS:
        return f"parser: errors {call.errors}, repairs {call.repairs}"
    schema = next(t["function"]["parameters"] for t in tools if t["function"]["name"] == call.name)
    error = next(jsonschema.Draft202012Validator(schema).iter_errors(call.arguments), None)
    return None if error is None else f"jsonschema: {error.message}"
