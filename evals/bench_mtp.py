"""MTP speculative decoding benchmark on the engine bench's ~100M "mini MiMo" (prints JSON; not a test).

The mini model has random weights and no trained MTP heads, so three heads are first self-distilled on
the target's own greedy continuations of *other* random prompts (frozen target; minutes on CPU). Then
greedy decoding after the bench prompt runs without and with MTP (k = 1..3): tokens per CPU second
(`time.process_time`, as bench_engine, so a shared machine skews both sides alike), whether the output
is identical, the accepted length (tokens committed per verify step) and its histogram, and the
draft/verify split of the decode time. One torch thread, float32.

    .venv/bin/python -m mimo_agent.evals.bench_mtp --distill-steps 300 --new-tokens 96
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch

from mimo_agent.engine.engine import Engine, GenerationResult
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.mtp_training import distill_samples, self_distill
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.evals.bench_engine import build_models


def distilled_heads(model: MiMoForCausalLM, args: argparse.Namespace) -> tuple[MTPHeads, dict[str, Any]]:
    torch.manual_seed(args.seed)
    heads = MTPHeads(model.config, 3).eval()
    g = torch.Generator().manual_seed(1000 + args.seed)  # not the evaluation prompt's seed
    vocab = model.config.vocab_size
    prompts = [
        torch.randint(0, vocab, (args.distill_prompt_tokens,), generator=g).tolist()
        for _ in range(args.distill_prompts)
    ]
    started = time.perf_counter()
    samples = distill_samples(model, prompts, args.distill_new_tokens)
    generated = time.perf_counter()
    losses = self_distill(model, heads, samples, steps=args.distill_steps, lr=args.lr, seed=args.seed)
    report = {
        "prompts": args.distill_prompts,
        "prompt_tokens": args.distill_prompt_tokens,
        "new_tokens": args.distill_new_tokens,
        "steps": args.distill_steps,
        "lr": args.lr,
        "corpus_seconds": round(generated - started, 1),
        "train_seconds": round(time.perf_counter() - generated, 1),
        "loss_first": round(losses[0], 3),
        "loss_last_20_mean": round(sum(losses[-20:]) / len(losses[-20:]), 3),
    }
    return heads, report


def decode(
    model: MiMoForCausalLM, heads: MTPHeads, prompt: list[int], tokens: int, steps: int
) -> tuple[GenerationResult, float]:
    """(result, decode tokens per CPU second after the first token, which comes from the prefill).
    A cold engine per run, so no run inherits another's caches."""
    engine = Engine(model, max_seq_len=len(prompt) + tokens + 8, mtp=heads)
    times: list[float] = []
    for item in engine.generate(prompt, SamplingParams(max_new_tokens=tokens), mtp_steps=steps):
        times.append(time.process_time())
        if isinstance(item, GenerationResult):
            result = item
    return result, (tokens - 1) / (times[tokens - 1] - times[0])


def compare(
    model: MiMoForCausalLM, heads: MTPHeads, context: int, tokens: int, ks: list[int]
) -> dict[str, Any]:
    vocab = model.config.vocab_size
    prompt = torch.randint(0, vocab, (context,), generator=torch.Generator().manual_seed(2)).tolist()
    plain, plain_tps = decode(model, heads, prompt, tokens, 0)
    runs = []
    for k in ks:
        spec, tps = decode(model, heads, prompt, tokens, k)
        stats = spec.stats.speculation
        assert stats is not None
        runs.append(
            {
                "k": k,
                "tokens_per_second": round(tps, 2),
                "speedup": round(tps / plain_tps, 2),
                "greedy_identical": spec.token_ids == plain.token_ids,
                **stats.to_dict(),
                "decode_seconds": round(spec.stats.decode_seconds, 3),
            }
        )
    return {
        "prompt_tokens": context,
        "new_tokens": tokens,
        "plain_tokens_per_second": round(plain_tps, 2),
        "mtp": runs,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--new-tokens", type=int, default=96, help="greedy tokens per decode run")
    parser.add_argument(
        "--contexts", type=int, nargs="+", default=[160], help="prompt lengths to decode after"
    )
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 3], help="draft lengths to measure")
    parser.add_argument("--distill-prompts", type=int, default=8)
    parser.add_argument("--distill-prompt-tokens", type=int, default=32)
    parser.add_argument("--distill-new-tokens", type=int, default=128)
    parser.add_argument("--distill-steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    reference, model = build_models(args.seed)
    del reference
    heads, distill = distilled_heads(model, args)
    report = {
        "torch_threads": args.threads,
        "decode_clock": "process_time (CPU seconds)",
        "model": "bench_engine.mini_config() (~100M, random weights) + 3 self-distilled MTP heads",
        "distill": distill,
        "decode": [compare(model, heads, n, args.new_tokens, args.k) for n in args.contexts],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
