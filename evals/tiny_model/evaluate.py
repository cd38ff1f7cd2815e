"""Held-out evaluation of the demo model: `python -m mimo_agent.evals.tiny_model.evaluate --model DIR`.

1. Resolved rate: a fresh test split (program templates never trained on) run through the SWE-bench
   harness (`mimo-agent eval swe-bench run --grade`, each instance in its own venv, hidden tests), and
   from the saved trajectories: valid-call rate under the grammar, repairs, decode tokens/s and the MTP
   accepted length of the agent's own runs.
2. MTP accepted length on held-out expert trajectories: the validation split solved by the scripted
   expert; at each assistant turn the engine decodes greedily from the true context with all MTP heads
   drafting every step (no adaptive shortening), and the tokens each verify pass yields are counted;
   the same turns decoded without MTP give the speed-up (CPU seconds) and must come out identical.

Prints one JSON report (also written to OUT/report.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from mimo_agent.engine.engine import Engine
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.evals.tasks import PYTEST_REQUIREMENT, generate_split
from mimo_agent.evals.tiny_model.run_stats import RunStats, stats_from_trajectory
from mimo_agent.evals.tiny_model.tokenizer import encode_with_mask
from mimo_agent.evals.tiny_model.trajectories import generate_trajectories, read_trajectories

RUN_ID = "tiny-eval"
MODEL_NAME = "mimo-agent/mimo-tiny-coder"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def harness_run(model: Path, tasks: Path, out: Path, max_steps: int, workers: int) -> dict[str, Any]:
    """Run and grade the split with the real CLI; returns resolved counts and the trajectories' statistics."""
    command = [
        sys.executable, "-m", "mimo_agent", "eval", "swe-bench", "run",
        "--dataset", str(tasks / "instances.jsonl"), "--specs", str(tasks / "specs.json"),
        "--backend", "embedded", "--model", str(model), "--model-name-or-path", MODEL_NAME,
        "--output", str(out), "--run-id", RUN_ID, "--max-steps", str(max_steps), "--workers", str(workers),
        "--grade",
    ]  # fmt: skip
    started = time.monotonic()
    env = {name: value for name, value in os.environ.items() if name != "PYTEST_ADDOPTS"}
    code = subprocess.run(
        command, env=env, stdout=2
    ).returncode  # its stdout to our stderr: ours is the report
    seconds = time.monotonic() - started
    reports = sorted(out.glob(f"*.{RUN_ID}.json"))
    if code not in (0, 1) or not reports:
        raise RuntimeError(f"the harness failed (exit code {code}); see its messages above")
    report = json.loads(reports[-1].read_text(encoding="utf-8"))
    stats = RunStats()
    for path in sorted((out / RUN_ID / "trajectories").glob("*.json")):
        stats.add(stats_from_trajectory(path))
    total = report.get("total_instances", 0)
    return {
        "instances": total,
        "resolved": report.get("resolved_instances", 0),
        "resolved_rate": round(report.get("resolved_instances", 0) / total, 3) if total else None,
        "empty_patches": report.get("empty_patch_instances"),
        "seconds": round(seconds, 1),
        **stats.summary(),
    }


def mtp_acceptance(
    model: Path, rows: list[dict[str, Any]], max_turns: int, mtp_steps: int = 3
) -> dict[str, Any]:
    """Tokens per verify pass while the model greedily re-decodes held-out assistant turns from their context,
    and the speed-up over plain greedy decoding of the same turns (CPU seconds, so a busy machine skews
    both alike); the two outputs must be identical token for token."""
    engine = Engine.from_pretrained(model, max_seq_len=8192)
    assert engine.tokenizer is not None
    histogram: dict[int, int] = {}
    generated, turns, identical = 0, 0, 0
    seconds = {"plain": 0.0, "mtp": 0.0}
    for row in rows:
        ids, mask = encode_with_mask(engine.tokenizer.hf, row["text"], row["assistant_spans"])
        starts = [i for i in range(1, len(mask)) if mask[i] and not mask[i - 1]]
        for start in starts[: max(0, max_turns - turns)]:
            length = next((i for i in range(start, len(mask)) if not mask[i]), len(mask)) - start
            params = SamplingParams(temperature=0.0, max_new_tokens=length)
            outputs = {}
            for name, steps in (("plain", 0), ("mtp", mtp_steps)):
                engine.complete(
                    ids[:start], params=SamplingParams(max_new_tokens=1), mtp_steps=0
                )  # prefill, untimed
                clock = time.process_time()
                result = engine.complete(ids[:start], params=params, mtp_steps=steps, mtp_adaptive=False)
                seconds[name] += time.process_time() - clock
                outputs[name] = result.token_ids
            speculation = result.stats.speculation
            for n, count in enumerate(speculation.histogram if speculation else []):
                histogram[n] = histogram.get(n, 0) + count
            generated += len(outputs["mtp"])
            identical += outputs["plain"] == outputs["mtp"]
            turns += 1
    steps = sum(histogram.values())
    return {
        "trajectories": len(rows),
        "turns": turns,
        "mtp_steps": mtp_steps,
        "accepted_length": round(sum(n * c for n, c in histogram.items()) / steps, 3) if steps else None,
        "accepted_length_histogram": {str(n): c for n, c in sorted(histogram.items()) if c},
        "greedy_identical_turns": identical,
        "tokens_per_cpu_second": {k: round(generated / v, 1) if v else None for k, v in seconds.items()},
        "speedup": round(seconds["plain"] / seconds["mtp"], 3) if seconds["mtp"] else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimo_agent.evals.tiny_model.evaluate",
        description="Evaluate the demo model on held-out programs (SWE-bench harness) and its MTP heads on "
        "held-out expert trajectories; print one JSON report.",
    )
    parser.add_argument("--model", type=Path, default=Path("models/mimo-tiny-coder"))
    parser.add_argument(
        "--out", type=Path, default=Path("runs/tiny-eval"), help="work folder (replaced parts)"
    )
    parser.add_argument("--tasks", type=int, default=40, help="test-split instances for the harness run")
    parser.add_argument("--mtp-trajectories", type=int, default=10, help="validation trajectories for MTP")
    parser.add_argument("--mtp-turns", type=int, default=40, help="assistant turns re-decoded at most")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="harness instances in parallel")
    parser.add_argument("--seed", type=int, default=1000, help="task seed (distinct from training's)")
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        parser.error(f"--model {args.model}: no checkpoint there (build one with `make tiny-model`)")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out}: not empty (the harness would resume an old run); pick a new folder")
    torch.set_num_threads(2)
    report: dict[str, Any] = {"model": str(args.model), "seed": args.seed}

    say(f"1/2 {args.tasks} held-out test-split tasks through the SWE-bench harness")
    tasks = args.out / "tasks-test"
    generate_split("test", args.tasks, args.seed, tasks, pip_install=(PYTEST_REQUIREMENT,))
    report["harness"] = harness_run(args.model, tasks, args.out / "harness", args.max_steps, args.workers)
    say(json.dumps(report["harness"]))

    say(f"2/2 MTP acceptance on {args.mtp_trajectories} held-out (validation-split) expert trajectories")
    validation = args.out / "tasks-validation"
    generate_split("validation", args.mtp_trajectories, args.seed, validation)
    trajectories = args.out / "validation-trajectories.jsonl"
    generate_trajectories(validation, trajectories, seed=args.seed, work_dir=args.out / "scratch")
    rows = read_trajectories(trajectories)
    random.Random(args.seed).shuffle(rows)
    report["mtp_held_out"] = mtp_acceptance(args.model, rows, args.mtp_turns)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
