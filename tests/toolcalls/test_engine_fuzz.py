"""Issue 4 (d): this repository's engine, with random weights and the grammar as its logits processor (as
the embedded backend wires it), writes ≥ 500 calls over BFCL schemas, XML and Hermes; every one parses
and validates."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import torch

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.engine import Engine
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.toolcalls.bfcl import load_bfcl_cases
from mimo_agent.toolcalls.grammar import GrammarCompiler, GrammarOptions
from mimo_agent.toolcalls.logits_processor import GrammarLogitsProcessor
from tests.engine.tiny_models import tiny_model
from tests.toolcalls.grammar_helpers import ClosingBias, call_problem, stop_id, tiny_tokenizer

CALLS = {"xml": 320, "xml_compact": 64, "json": 128}  # 512 in all
MAX_NEW_TOKENS = 600


class ClosingBiasProcessor:
    """`ClosingBias` as an engine logits processor; put before the grammar, which has the last word."""

    def __init__(self, bias: ClosingBias):
        self.bias = bias
        self.tail = ""
        self.steps = 0

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.add_(self.bias.bias(self.tail, self.steps, logits.shape[0]))

    def accept(self, token_id: int) -> bool:
        self.tail = (self.tail + self.bias.texts[token_id])[-16:]
        self.steps += 1
        return True

    def rollback(self, num_tokens: int) -> None:
        raise AssertionError("no speculative decoding in this test")

    def is_finished(self) -> bool:
        return False


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def random_engine() -> Engine:
    """One layer is enough: the weights are random, and the grammar, not the model, is under test."""
    reference = tiny_model(seed=3, vocab_size=len(tiny_tokenizer()), num_hidden_layers=1)
    model = MiMoForCausalLM(ModelConfig.from_dict(reference.config.to_dict()))
    model.load_state_dict(reference.state_dict(), strict=True)
    return Engine(model.eval(), max_seq_len=1024)


@pytest.mark.slow
def test_engine_under_the_grammar_writes_only_valid_bfcl_calls() -> None:
    tokenizer = tiny_tokenizer()
    engine, compiler, bias = random_engine(), GrammarCompiler.from_tokenizer(tokenizer), ClosingBias()
    prompt = tokenizer.encode("<|im_start|>assistant\n")
    stops = [stop_id(), tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    cases = random.Random(4).sample(load_bfcl_cases(), sum(CALLS.values()))
    formats = [fmt for fmt, count in CALLS.items() for _ in range(count)]
    failures = []
    for seed, (case, fmt) in enumerate(zip(cases, formats, strict=True)):
        options = GrammarOptions(format=fmt, tool_choice="required", parallel_tool_calls=False)
        grammar = GrammarLogitsProcessor(compiler.tool_calls(case.tools, options))
        params = SamplingParams(
            temperature=1.0, max_new_tokens=MAX_NEW_TOKENS, stop_token_ids=stops, seed=seed
        )
        result = engine.complete(
            prompt, params=params, logits_processors=[ClosingBiasProcessor(bias), grammar]
        )
        ended = result.token_ids[-1] in stops and grammar.is_finished()
        text = tokenizer.decode(result.token_ids[:-1]) if ended else None
        if problem := call_problem(text, case.tools):
            failures.append(f"{fmt}: {problem}\n{text}")
    assert not failures, f"{len(failures)}/{len(cases)} invalid; first: {failures[0]}"
