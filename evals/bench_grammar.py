"""Grammar cost benchmark (prints JSON; not a test).

1. Compile time and per-token mask time (fill the bitmask + apply it to full-width logits, CPU), with
   masks built at compile time or lazily (the default), along a realistic agent turn
   (reasoning, prose, then a call to a coding tool), at the engine bench's vocabulary (16,384) and at
   MiMo-V2-Flash's (151,643 tokens in a 152,576-row lm_head). No MiMo tokenizer is available offline, so
   the vocabularies are byte-level BPE trained on local Python sources, widened to MiMo's size with
   concatenations of trained tokens (as BPE merges are); the report says so.
2. Constrained vs unconstrained decode tokens/s of this repository's engine on the engine bench's
   ~100M mini MiMo (random weights, CPU float32, one thread, `time.process_time`), the constrained run
   forced to write a tool call (tool_choice "required").
3. BFCL compile coverage and time at the engine bench's vocabulary: one grammar per BFCL question
   (issue 4 (a); the test suite does all of them on the 926-token test tokenizer).

    .venv/bin/python -m mimo_agent.evals.bench_grammar --decode-tokens 64 [--bfcl-questions 0]
    .venv/bin/python -m mimo_agent.evals.bench_grammar --bfcl-only --bfcl-questions 0   # coverage only
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import xgrammar as xgr
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from mimo_agent.engine.engine import Engine, GenerationResult
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.evals.bench_engine import build_models, mini_config
from mimo_agent.toolcalls.bfcl import load_bfcl_cases
from mimo_agent.toolcalls.formats import render_xml
from mimo_agent.toolcalls.grammar import GrammarCompiler, GrammarError, GrammarOptions, tokenizer_info
from mimo_agent.toolcalls.logits_processor import GrammarLogitsProcessor

MIMO_TOKENS, MIMO_ROWS = 151_643, 152_576
SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
MARKUP = ("<think>", "</think>", "<tool_call>", "</tool_call>")
CORPUS_BYTES = 6_000_000
TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": props, "required": req}}}
    for name, props, req in [
        ("bash", {"command": {"type": "string"}, "timeout": {"type": "integer", "minimum": 1}}, ["command"]),
        ("read_file", {"path": {"type": "string"}, "start": {"type": "integer"}, "end": {"type": "integer"}}, ["path"]),
        ("write_file", {"path": {"type": "string"}, "content": {"type": "string"}}, ["path", "content"]),
        (
            "edit_file",
            {"path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}, "all": {"type": "boolean"}},
            ["path", "old", "new"],
        ),
        (
            "search",
            {"pattern": {"type": "string"}, "paths": {"type": "array", "items": {"type": "string"}}, "regex": {"type": "boolean"}},
            ["pattern"],
        ),
    ]
]  # fmt: skip
TURN = (
    "<think>The test fails because add() subtracts. I will fix the operator and rerun the tests.</think>\n"
    "I'll fix the bug in `src/app/main.py`.\n"
    + render_xml(
        "edit_file",
        {"path": "src/app/main.py", "old": "return a - b", "new": "return a + b"},
        TOOLS[3]["function"]["parameters"],
    )
)


def _corpus() -> list[str]:
    """Deterministic local text: the installed transformers' model sources, sorted."""
    root = Path(__import__("transformers").__file__).parent / "models"
    texts, size = [], 0
    for path in sorted(root.rglob("*.py")):
        text = path.read_text("utf-8", errors="replace")
        texts.append(text)
        size += len(text)
        if size >= CORPUS_BYTES:
            break
    return texts


def train_tokenizer(vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE with MiMo's control and markup tokens at the end of the vocabulary."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    size = vocab_size - len(SPECIAL) - len(MARKUP)
    trainer = trainers.BpeTrainer(
        vocab_size=size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(_corpus(), trainer=trainer)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in MARKUP])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )


def widened_info(tokenizer: PreTrainedTokenizerFast, tokens: int, rows: int, seed: int) -> xgr.TokenizerInfo:
    """The tokenizer's byte-level vocabulary plus concatenations of its tokens, `tokens` in all, `rows` wide."""
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    encoded = [text for text, _ in vocab]
    pieces = [t for t in encoded if t not in SPECIAL + MARKUP]
    rng, seen = random.Random(seed), set(encoded)
    while len(encoded) < tokens:
        text = rng.choice(pieces) + rng.choice(pieces)
        if text not in seen:
            seen.add(text)
            encoded.append(text)
    stops = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    return xgr.TokenizerInfo(encoded, xgr.VocabType.BYTE_LEVEL, vocab_size=rows, stop_token_ids=stops)


def mask_times(info: xgr.TokenizerInfo, ids: list[int], repeats: int) -> dict[str, Any]:
    """Compile time, then µs per token of fill + apply along `ids` (the turn), for eager and lazy mask caches.

    The first (cold) pass is timed once per token: with lazy masks it builds them. A warm pass then times
    each position `repeats` times and keeps the median.
    """
    out: dict[str, Any] = {"vocab_rows": info.vocab_size, "turn_tokens": len(ids)}
    for name, lazy in (("eager_masks", False), ("lazy_masks", True)):
        start = time.perf_counter()
        grammar = GrammarCompiler(info, lazy_masks=lazy).tool_calls(TOOLS, GrammarOptions(reasoning=True))
        compile_ms = (time.perf_counter() - start) * 1e3
        logits = torch.zeros(info.vocab_size)
        cold, warm = GrammarLogitsProcessor(grammar), GrammarLogitsProcessor(grammar)
        cold_us, per_token = [], []
        for token in ids:
            t0 = time.perf_counter()
            cold.process(logits)
            cold_us.append((time.perf_counter() - t0) * 1e6)
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                warm.process(logits)
                samples.append((time.perf_counter() - t0) * 1e6)
            per_token.append(statistics.median(samples))
            if not (cold.accept(token) and warm.accept(token)):
                raise RuntimeError(f"the benchmark turn left the grammar at token {token}")
        per_token.sort()
        out[name] = {
            "compile_ms": round(compile_ms, 1),
            "cold_turn_mask_ms": round(sum(cold_us) / 1e3, 1),
            "mask_us_median": round(statistics.median(per_token), 1),
            "mask_us_p90": round(per_token[int(0.9 * (len(per_token) - 1))], 1),
            "mask_us_max": round(per_token[-1], 1),
            "mask_us_mean": round(statistics.fmean(per_token), 1),
        }
    return out


def decode_speed(tokenizer: PreTrainedTokenizerFast, tokens: int, rounds: int, seed: int) -> dict[str, Any]:
    """Decode tokens per CPU second (after the first token) of the engine, without and with the grammar,
    in alternating runs; medians over `rounds` runs of each."""
    _, model = build_models(seed)
    if model.config.vocab_size != len(tokenizer):
        raise RuntimeError(
            f"mini model has {model.config.vocab_size} rows, tokenizer {len(tokenizer)} tokens"
        )
    grammar = GrammarCompiler.from_tokenizer(tokenizer).tool_calls(
        TOOLS, GrammarOptions(tool_choice="required")
    )
    prompt = tokenizer.encode("<|im_start|>user\nFix the failing test.<|im_end|><|im_start|>assistant\n")
    speeds: dict[str, list[float]] = {"unconstrained": [], "constrained": []}
    heads: dict[str, str] = {}
    for _ in range(rounds):
        for name in speeds:
            engine = Engine(model, max_seq_len=len(prompt) + tokens + 1)
            procs = [GrammarLogitsProcessor(grammar)] if name == "constrained" else []
            params = SamplingParams(max_new_tokens=tokens, temperature=1.0, seed=seed)
            stamps, ids = [], []
            for item in engine.generate(prompt, params=params, logits_processors=procs):
                stamps.append(time.process_time())  # one per generated token, then the result
                if isinstance(item, GenerationResult):
                    ids = item.token_ids
            speeds[name].append((len(ids) - 1) / (stamps[-2] - stamps[0]))
            heads[name] = tokenizer.decode(ids)[:120]
    out: dict[str, Any] = {
        name: {"tokens_per_cpu_second": round(statistics.median(v), 2), "runs": [round(x, 2) for x in v]}
        for name, v in speeds.items()
    }
    for name, head in heads.items():
        out[name]["text_head"] = head
    cost = 1 - out["constrained"]["tokens_per_cpu_second"] / out["unconstrained"]["tokens_per_cpu_second"]
    out["grammar_cost_fraction"] = round(cost, 4)
    return out


def bfcl_compile(tokenizer: PreTrainedTokenizerFast, questions: int) -> dict[str, Any]:
    """Compile one grammar per BFCL question (all when `questions` is 0, else a fixed sample), with every
    mask built at compile time."""
    cases = load_bfcl_cases()
    if questions:
        cases = random.Random(0).sample(cases, min(questions, len(cases)))
    compiler = GrammarCompiler.from_tokenizer(tokenizer, lazy_masks=False)
    compiler.max_entries = len(cases)
    times, refused = [], []
    for case in cases:
        start = time.perf_counter()
        try:
            compiler.tool_calls(case.tools)
        except GrammarError as exc:
            refused.append(str(exc)[:160])
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {
        "vocab": len(tokenizer),
        "masks": "eager",
        "questions": len(cases),
        "compiled": len(cases) - len(refused),
        "refused": sorted(set(refused)),
        "compile_ms_median": round(statistics.median(times), 1),
        "compile_ms_p90": round(times[int(0.9 * (len(times) - 1))], 1),
        "compile_s_total": round(sum(times) / 1e3, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decode-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="decode runs of each kind, alternating")
    parser.add_argument("--repeats", type=int, default=5, help="timings per position (the median is kept)")
    parser.add_argument(
        "--bfcl-questions", type=int, default=500, help="a fixed sample; 0: all 2501 (minutes)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is stable on a shared CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bfcl-only", action="store_true", help="only section 3: BFCL compile coverage")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = mini_config()["vocab_size"]
    small = train_tokenizer(rows)
    if args.bfcl_only:
        json.dump({"bfcl_compile": bfcl_compile(small, args.bfcl_questions)}, sys.stdout, indent=2)
        print()
        return
    turn = small.encode(TURN)
    report: dict[str, Any] = {
        "vocabularies": "byte-level BPE trained on local Python sources (no MiMo tokenizer offline); "
        f"the MiMo-size one adds concatenations of trained tokens up to {MIMO_TOKENS} tokens in {MIMO_ROWS} rows",
        "mask_engine_bench_vocab": mask_times(tokenizer_info(small), turn, args.repeats),
        "mask_mimo_vocab": mask_times(
            widened_info(small, MIMO_TOKENS, MIMO_ROWS, args.seed), turn, args.repeats
        ),
        "engine_decode_mini_mimo": decode_speed(small, args.decode_tokens, args.rounds, args.seed),
        "bfcl_compile": bfcl_compile(small, args.bfcl_questions),
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
