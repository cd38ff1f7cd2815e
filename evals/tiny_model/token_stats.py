"""How the trajectories look through a tokenizer: lengths, loss tokens, round trips and grammar acceptance.

The grammar check feeds each expert output (plus `<|im_end|>`) token by token to the same tool-call
grammar the embedded backend decodes under: if it accepts every token and terminates, the model can be
taught exactly these sequences and still produce them with the grammar on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from transformers import PreTrainedTokenizerBase

from mimo_agent.evals.tiny_model.render import END_OF_TURN
from mimo_agent.evals.tiny_model.tokenizer import encode_with_mask
from mimo_agent.evals.tiny_model.trajectories import spread
from mimo_agent.toolcalls.grammar import GrammarCompiler, GrammarOptions
from mimo_agent.toolcalls.logits_processor import GrammarLogitsProcessor


def token_counts(tokenizer: PreTrainedTokenizerBase, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per trajectory: all tokens, the prompt before the first assistant turn, the loss (assistant) tokens."""
    totals, prompts, losses, round_trips = [], [], [], 0
    for row in rows:
        ids, mask = encode_with_mask(tokenizer, row["text"], row["assistant_spans"])
        totals.append(len(ids))
        prompts.append(mask.index(1) if 1 in mask else len(mask))
        losses.append(sum(mask))
        round_trips += (
            tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
            == row["text"]
        )
    return {
        "trajectories": len(totals),
        "tokens": spread(totals),
        "prompt_tokens": spread(prompts),
        "assistant_tokens": spread(losses),
        "chars_per_token": round(sum(len(r["text"]) for r in rows) / max(1, sum(totals)), 3),
        "round_trips": round_trips,
    }


def grammar_acceptance(
    tokenizer: PreTrainedTokenizerBase, rows: Iterable[dict[str, Any]], tools: list[dict[str, Any]]
) -> dict[str, Any]:
    """How many expert outputs the tool-call grammar (as the embedded backend builds it) accepts whole."""
    compiled = GrammarCompiler.from_tokenizer(tokenizer).tool_calls(tools, GrammarOptions())
    outputs, accepted, rejected = 0, 0, []
    for row in rows:
        for output in row["outputs"]:
            outputs += 1
            processor = GrammarLogitsProcessor(compiled)
            ids = tokenizer.encode(output + END_OF_TURN, add_special_tokens=False)
            if all(processor.accept(token) for token in ids) and processor.is_finished():
                accepted += 1
            elif len(rejected) < 5:
                rejected.append(f"{row['instance_id']}: {output[:200]!r}")
    return {"outputs": outputs, "accepted": accepted, "rejected_examples": rejected}
