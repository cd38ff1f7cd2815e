"""`python -m mimo_agent.evals.tiny_model.make_tokenizer --trajectories FILE --tasks DIR --out DIR`.

Trains the demo tokenizer on the trajectories' chat texts plus the task split's code, saves it with the
chat template, and prints its statistics on the trajectories (token lengths, round trips, grammar
acceptance of every expert output). `--compare` also reports tokens per trajectory with and without the
XML call pieces as added tokens, for each vocabulary size given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from mimo_agent.agent.runner import agent_tools
from mimo_agent.evals.tiny_model.agent_profile import agent_flags
from mimo_agent.evals.tiny_model.token_stats import grammar_acceptance, token_counts
from mimo_agent.evals.tiny_model.tokenizer import DEFAULT_VOCAB_SIZE, save_tokenizer, train_tokenizer
from mimo_agent.evals.tiny_model.trajectories import read_trajectories

CODE_SUFFIXES = (".py", ".toml")


def training_texts(rows: list[dict[str, Any]], tasks_dir: Path) -> list[str]:
    """The chat texts, then every source file of the split's repositories (sorted, so training is stable)."""
    code = [
        path.read_text(encoding="utf-8")
        for path in sorted((tasks_dir / "repos").rglob("*"))
        if path.suffix in CODE_SUFFIXES and ".git" not in path.parts and path.is_file()
    ]
    return [row["text"] for row in rows] + code


def build(
    trajectories: Path,
    tasks_dir: Path,
    out_dir: Path,
    vocab_size: int = DEFAULT_VOCAB_SIZE,
    call_tokens: bool = True,
) -> dict[str, Any]:
    """Train, save to `out_dir`, and return the statistics (also written to `out_dir/stats.json`)."""
    rows = read_trajectories(trajectories)
    started = time.monotonic()
    tokenizer = train_tokenizer(training_texts(rows, tasks_dir), vocab_size, call_tokens)
    seconds = time.monotonic() - started
    save_tokenizer(tokenizer, out_dir)
    tools = [tool.to_openai() for tool in agent_tools(agent_flags()["tools"]["enabled"])]
    stats = {
        "vocab_size": vocab_size,
        "len_tokenizer": len(tokenizer),
        "call_tokens": call_tokens,
        "training_seconds": round(seconds, 2),
        **token_counts(tokenizer, rows),
        "grammar": grammar_acceptance(tokenizer, rows, tools),
    }
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return stats


def compare(trajectories: Path, tasks_dir: Path, vocab_sizes: list[int]) -> list[dict[str, Any]]:
    """Mean tokens per trajectory (all, assistant) for each vocabulary size, with and without call tokens."""
    rows = read_trajectories(trajectories)
    texts = training_texts(rows, tasks_dir)
    table = []
    for vocab_size in vocab_sizes:
        for call_tokens in (False, True):
            counts = token_counts(train_tokenizer(texts, vocab_size, call_tokens), rows)
            table.append(
                {
                    "vocab_size": vocab_size,
                    "call_tokens": call_tokens,
                    "tokens_mean": counts["tokens"]["mean"],
                    "prompt_tokens_mean": counts["prompt_tokens"]["mean"],
                    "assistant_tokens_mean": counts["assistant_tokens"]["mean"],
                }
            )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimo_agent.evals.tiny_model.make_tokenizer",
        description="Train the demo model's byte-level BPE tokenizer (MiMo chat tokens and template) and "
        "report its statistics on the expert trajectories.",
    )
    parser.add_argument(
        "--trajectories", type=Path, required=True, help="JSONL from ...tiny_model.trajectories"
    )
    parser.add_argument("--tasks", type=Path, required=True, help="the task split the trajectories solved")
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for the tokenizer files and stats.json"
    )
    parser.add_argument(
        "--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE, help="BPE vocabulary incl. 256 bytes"
    )
    parser.add_argument(
        "--no-call-tokens", action="store_true", help="leave <function=, <parameter=, … to the BPE merges"
    )
    parser.add_argument(
        "--compare",
        type=int,
        nargs="*",
        metavar="VOCAB",
        help="also print tokens per trajectory for these sizes",
    )
    args = parser.parse_args(argv)
    if not args.trajectories.is_file():
        parser.error(f"--trajectories {args.trajectories}: no such file")
    if args.vocab_size < 300:
        parser.error(f"--vocab-size must be at least 300 (256 bytes plus merges), got {args.vocab_size}")
    report: dict[str, Any] = {
        "tokenizer": build(args.trajectories, args.tasks, args.out, args.vocab_size, not args.no_call_tokens)
    }
    if args.compare:
        report["compare"] = compare(args.trajectories, args.tasks, args.compare)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
