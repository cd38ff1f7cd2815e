"""The grammar as a decode-time processor: masks, accept/rollback for MTP drafts, transformers' generate.

The fuzz run through this repository's engine (≥ 500 BFCL calls) is in test_engine_fuzz.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
import transformers

from mimo_agent.engine.logits import LogitsProcessor
from mimo_agent.toolcalls.formats import render_xml
from mimo_agent.toolcalls.grammar import GrammarCompiler, GrammarError, GrammarOptions
from mimo_agent.toolcalls.logits_processor import (
    GrammarLogitsProcessor,
    GrammarRejectedToken,
    TransformersGrammarProcessor,
)
from tests.engine.tiny_models import tiny_model
from tests.toolcalls.grammar_helpers import ClosingBias, call_problem, stop_id, tiny_tokenizer

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}]
STOPS = [stop_id(), tiny_tokenizer().convert_tokens_to_ids("<|endoftext|>")]
CALL = render_xml("get_weather", {"city": "Paris", "days": 3}, SCHEMA)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """The tiny model is 50x slower when torch's threads fight other processes for two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def compiler() -> GrammarCompiler:
    return GrammarCompiler.from_tokenizer(tiny_tokenizer())


def allowed(proc: GrammarLogitsProcessor, width: int | None = None) -> set[int]:
    logits = torch.zeros(width or len(tiny_tokenizer()))
    return set(torch.nonzero(proc.process(logits) == 0).flatten().tolist())


def call_tokens() -> list[int]:
    return tiny_tokenizer().encode(CALL, add_special_tokens=False)


def test_satisfies_the_engine_protocol(compiler: GrammarCompiler) -> None:
    assert isinstance(GrammarLogitsProcessor(compiler.tool_calls(TOOLS)), LogitsProcessor)


def test_every_token_of_a_valid_call_is_allowed_by_the_mask_before_it(compiler: GrammarCompiler) -> None:
    options = GrammarOptions(tool_choice="required", parallel_tool_calls=False)
    proc = GrammarLogitsProcessor(compiler.tool_calls(TOOLS, options))
    for token in call_tokens():
        mask = allowed(proc)
        assert token in mask and len(mask) < len(tiny_tokenizer())
        assert proc.accept(token)
    assert allowed(proc) == set(STOPS)
    assert proc.accept(stop_id()) and proc.is_finished()


def test_process_does_not_change_state_and_refusals_leave_it_alone(compiler: GrammarCompiler) -> None:
    proc = GrammarLogitsProcessor(compiler.tool_calls(TOOLS, GrammarOptions(tool_choice="required")))
    first = allowed(proc)
    assert allowed(proc) == first
    refused = next(t for t in range(len(tiny_tokenizer())) if t not in first)
    assert not proc.accept(refused)
    assert not proc.accept(-1) and not proc.accept(10**6)
    assert allowed(proc) == first
    assert all(proc.accept(t) for t in call_tokens())


def test_padded_logits_rows_are_masked(compiler: GrammarCompiler) -> None:
    """A padded lm_head (MiMo: 152576 rows for a smaller tokenizer) must never yield a padding id."""
    vocab = len(tiny_tokenizer())
    padded = GrammarCompiler.from_tokenizer(tiny_tokenizer(), vocab_size=vocab + 64)
    for grammar, width in ((compiler.tool_calls(TOOLS), vocab + 100), (padded.tool_calls(TOOLS), vocab + 64)):
        proc = GrammarLogitsProcessor(grammar)
        mask = allowed(proc, width)
        assert mask and max(mask) < vocab
        assert not proc.accept(vocab + 1)


def test_lazy_and_eager_masks_agree(compiler: GrammarCompiler) -> None:
    eager = GrammarCompiler.from_tokenizer(tiny_tokenizer(), lazy_masks=False)
    options = GrammarOptions(reasoning=True)
    procs = [GrammarLogitsProcessor(c.tool_calls(TOOLS, options)) for c in (compiler, eager)]
    for token in tiny_tokenizer().encode("<think>ok</think>\nSure. " + CALL, add_special_tokens=False):
        assert allowed(procs[0]) == allowed(procs[1])
        assert all(p.accept(token) for p in procs)


def test_rollback_takes_back_an_mtp_draft(compiler: GrammarCompiler) -> None:
    proc = GrammarLogitsProcessor(compiler.tool_calls(TOOLS, GrammarOptions(tool_choice="required")))
    tokens = call_tokens()
    masks = []
    for token in tokens[:10]:
        masks.append(allowed(proc))
        assert proc.accept(token)
    proc.rollback(8)
    assert allowed(proc) == masks[2]
    proc.rollback(2)
    assert allowed(proc) == masks[0]
    assert all(proc.accept(t) for t in tokens) and proc.accept(stop_id())


def test_transformers_generate_writes_a_valid_call(compiler: GrammarCompiler) -> None:
    named = GrammarOptions(tool_choice={"type": "function", "function": {"name": "get_weather"}})
    model = tiny_model(seed=1, vocab_size=len(tiny_tokenizer()))
    for text in generate_constrained(model, [compiler.tool_calls(TOOLS, named)] * 2, seed=0):
        assert call_problem(text, TOOLS) is None, text


def test_transformers_adapter_checks_its_batch_and_refuses_foreign_tokens(compiler: GrammarCompiler) -> None:
    proc = TransformersGrammarProcessor(compiler.tool_calls(TOOLS, GrammarOptions(tool_choice="required")))
    scores = torch.zeros(1, len(tiny_tokenizer()))
    with pytest.raises(GrammarError, match="batch size"):
        proc(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, len(tiny_tokenizer())))
    proc(torch.zeros(1, 3, dtype=torch.long), scores)
    assert torch.isinf(scores).any() and not torch.isinf(scores).all()
    with pytest.raises(GrammarError, match="expected 4 tokens"):
        proc(torch.zeros(1, 5, dtype=torch.long), torch.zeros(1, len(tiny_tokenizer())))
    with pytest.raises(GrammarRejectedToken, match="token 5"):
        proc(torch.tensor([[0, 0, 0, 5]]), torch.zeros(1, len(tiny_tokenizer())))


class ClosingBiasProcessor(transformers.LogitsProcessor):
    """`ClosingBias` for generate, before the grammar mask; keeps the last characters of each row."""

    def __init__(self, rows: int):
        self.bias = ClosingBias()
        self.tails = [""] * rows
        self.steps = -1

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self.steps += 1
        for row in range(input_ids.shape[0]):
            if self.steps:
                self.tails[row] = (self.tails[row] + self.bias.texts[int(input_ids[row, -1])])[-16:]
            scores[row] += self.bias.bias(self.tails[row], self.steps, scores.shape[1])
        return scores


def generate_constrained(
    model: transformers.PreTrainedModel, grammars: list[Any], seed: int, max_new_tokens: int = 400
) -> list[str | None]:
    """Sample one completion per grammar from `model`; each is the text before the stop token (None: no stop)."""
    tokenizer = tiny_tokenizer()
    prompt = tokenizer.encode("<|im_start|>assistant\n")
    torch.manual_seed(seed)
    out = model.generate(
        torch.tensor([prompt] * len(grammars)),
        logits_processor=transformers.LogitsProcessorList(
            [ClosingBiasProcessor(len(grammars)), TransformersGrammarProcessor(grammars)]
        ),
        max_new_tokens=max_new_tokens,
        do_sample=True,
        top_k=0,
        eos_token_id=STOPS,
        pad_token_id=tokenizer.pad_token_id,
    )
    texts: list[str | None] = []
    for row in out[:, len(prompt) :].tolist():
        end = next((i for i, t in enumerate(row) if t in STOPS), None)
        texts.append(None if end is None else tokenizer.decode(row[:end]))
    return texts
