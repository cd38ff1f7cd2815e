"""`make tiny-model`: tasks → expert trajectories → tokenizer → training → a checkpoint in the published layout.

    python -m mimo_agent.evals.tiny_model.build --out models/mimo-tiny-coder [--work DIR] [--seed N]

Training tasks come from the training split only (validation and test programs are never seen); the
validation split's trajectories give the held-out losses. The output folder holds config.json (hub
spelling), model.safetensors (BF16, router F32, `model.mtp.layers.*`), the tokenizer with the MiMo chat
template, `mimo-agent.toml` (the agent settings the model was trained with) and `training.json`
(data counts, time per phase, the loss curve, held-out losses). Scratch files go to --work.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from mimo_agent.agent.runner import agent_tools
from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.export import save_published
from mimo_agent.evals.tasks import generate_split
from mimo_agent.evals.tiny_model.agent_profile import agent_flags, write_profile
from mimo_agent.evals.tiny_model.make_tokenizer import training_texts
from mimo_agent.evals.tiny_model.rename import kept_words
from mimo_agent.evals.tiny_model.tokenizer import DEFAULT_VOCAB_SIZE, save_tokenizer, train_tokenizer
from mimo_agent.evals.tiny_model.train import (
    RenamedSamples,
    TrainOptions,
    build_model,
    samples_from,
    train,
    transformers_config,
)
from mimo_agent.evals.tiny_model.trajectories import generate_trajectories, read_trajectories

DATA_KEY_FILE = "data.json"  # the settings the tasks and trajectories in --work were made with


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _split(args: tuple[str, int, int, Path]) -> Path:
    split, count, seed, out_dir = args
    shutil.rmtree(out_dir, ignore_errors=True)
    generate_split(split, count, seed, out_dir)
    return out_dir


def make_tasks(work: Path, train_tasks: int, val_tasks: int, seed: int, workers: int) -> list[Path]:
    """Task folders: the training split in `workers` seeded parts (generated in parallel), then validation."""
    (work / DATA_KEY_FILE).unlink(missing_ok=True)
    dirs = _task_dirs(work, train_tasks, workers)
    parts = len(dirs) - 1
    jobs = [
        ("train", train_tasks // parts + (i < train_tasks % parts), seed * 100 + i, dirs[i])
        for i in range(parts)
    ]
    jobs.append(("validation", val_tasks, seed, dirs[-1]))
    with ProcessPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(_split, jobs))


def _task_dirs(work: Path, train_tasks: int, workers: int) -> list[Path]:
    parts = max(1, min(workers, train_tasks))
    return [work / f"tasks-train-{i}" for i in range(parts)] + [work / "tasks-validation"]


def _data_ready(work: Path, key: dict[str, Any]) -> bool:
    """Whether --work holds the tasks and trajectories of exactly these data settings (they are deterministic,
    so a rebuild that only changes training reuses them)."""
    path = work / DATA_KEY_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        return False


def make_trajectories(
    task_dirs: list[Path], work: Path, variants: int, seed: int, workers: int
) -> list[Path]:
    paths = []
    for tasks in task_dirs:
        out = work / f"trajectories-{tasks.name.removeprefix('tasks-')}.jsonl"
        summary = generate_trajectories(
            tasks,
            out,
            seed=seed,
            variants=variants if "train" in tasks.name else 1,
            workers=workers,
            work_dir=work / "scratch",
        )
        say(f"{out.name}: {summary['trajectories']}/{summary['episodes']} resolved episodes")
        paths.append(out)
    return paths


def build(
    out: Path,
    work: Path,
    *,
    seed: int = 0,
    train_tasks: int = 500,
    val_tasks: int = 40,
    variants: int = 1,
    workers: int = 2,
    options: TrainOptions | None = None,
    vocab_size: int = DEFAULT_VOCAB_SIZE,
) -> dict[str, Any]:
    """Run every phase and write the checkpoint to `out`; returns the report also saved as training.json."""
    options = options or TrainOptions(seed=seed)
    work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, workers))
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def phase(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()
        say(f"-- {name}: {seconds[name]:.0f} s")

    data_key = {"seed": seed, "train_tasks": train_tasks, "val_tasks": val_tasks, "variants": variants,
                "workers": workers}  # fmt: skip
    reused = _data_ready(work, data_key)
    say(
        f"1/5 tasks: {train_tasks} training, {val_tasks} validation"
        + (" (reused from --work)" if reused else "")
    )
    task_dirs = (
        _task_dirs(work, train_tasks, workers)
        if reused
        else make_tasks(work, train_tasks, val_tasks, seed, workers)
    )
    phase("tasks")
    say(f"2/5 expert trajectories ({variants} per training task)")
    if reused:
        trajectory_files = [
            work / f"trajectories-{tasks.name.removeprefix('tasks-')}.jsonl" for tasks in task_dirs
        ]
    else:
        trajectory_files = make_trajectories(task_dirs, work, variants, seed, workers)
        (work / DATA_KEY_FILE).write_text(json.dumps(data_key) + "\n", encoding="utf-8")
    train_rows = [row for path in trajectory_files[:-1] for row in read_trajectories(path)]
    val_rows = read_trajectories(trajectory_files[-1])
    phase("trajectories")

    say("3/5 tokenizer")
    texts = [text for tasks in task_dirs[:-1] for text in training_texts([], tasks)]
    tokenizer = train_tokenizer([row["text"] for row in train_rows] + texts, vocab_size)
    staging = work / "checkpoint"
    shutil.rmtree(staging, ignore_errors=True)
    save_tokenizer(tokenizer, staging)
    keep = kept_words(
        [json.dumps(tool.to_openai()) for tool in agent_tools(agent_flags()["tools"]["enabled"])]
    )
    samples = RenamedSamples(tokenizer, train_rows, keep, options.rename_share)
    validation = samples_from(tokenizer, val_rows)
    phase("tokenizer")

    say(f"4/5 training on {len(samples)} trajectories for {options.epochs} epochs")
    config = transformers_config(
        len(tokenizer),
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
        tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    model, heads = build_model(
        ModelConfig.from_dict(config, source="the tiny-model architecture"), options.seed
    )
    log = train(model, heads, samples, options, validation, on_progress=say)
    phase("training")

    say(f"5/5 writing {out}")
    weights = save_published(staging, model.eval(), heads.eval(), config)
    write_profile(staging)
    total, active = ModelConfig.from_file(staging / "config.json").parameter_counts()
    report = {
        "command": "make tiny-model",
        "seed": seed,
        "data": {
            "train_tasks": train_tasks,
            "train_trajectories": len(train_rows),
            "validation_trajectories": len(val_rows),
            "reused": reused,
        },
        "model": {
            "parameters": total + sum(p.numel() for p in heads.parameters()),
            "parameters_without_mtp": total,
            "active_per_token": active,
            "mtp_layers": len(heads),
            "checkpoint_bytes": weights.stat().st_size,
        },
        "options": asdict(options),
        "training": {k: v for k, v in asdict(log).items() if k != "curve"},
        "curve": log.curve,
        "seconds": seconds,
        "torch_threads": torch.get_num_threads(),
    }
    report["seconds"]["total"] = round(sum(seconds.values()), 1)
    (staging / "training.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(staging, out)  # written whole, so a failed run never leaves half a checkpoint
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimo_agent.evals.tiny_model.build",
        description="Train the demo model end to end (tasks, expert trajectories, tokenizer, MiMo model with "
        "MTP heads) and write it in the published checkpoint layout.",
    )
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to write (replaced whole)")
    parser.add_argument("--work", type=Path, default=Path(".tiny-model-work"), help="scratch folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-tasks", type=int, default=500)
    parser.add_argument("--val-tasks", type=int, default=40)
    parser.add_argument("--variants", type=int, default=1, help="expert episodes per training task")
    parser.add_argument("--epochs", type=float, default=TrainOptions.epochs)
    parser.add_argument("--workers", type=int, default=2, help="processes for data, threads for training")
    parser.add_argument(
        "--rename-share", type=float, default=TrainOptions.rename_share,
        help="share of training samples whose repository names are drawn anew (0 turns renaming off)",
    )  # fmt: skip
    parser.add_argument("--max-minutes", type=float, default=None, help="stop training early past this")
    args = parser.parse_args(argv)
    for name in ("train_tasks", "val_tasks", "variants", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.epochs <= 0:
        parser.error(f"--epochs must be positive, got {args.epochs}")
    if not 0.0 <= args.rename_share <= 1.0:
        parser.error(f"--rename-share must be between 0 and 1, got {args.rename_share}")
    options = TrainOptions(
        seed=args.seed, epochs=args.epochs, max_minutes=args.max_minutes, rename_share=args.rename_share
    )
    report = build(
        args.out,
        args.work,
        seed=args.seed,
        train_tasks=args.train_tasks,
        val_tasks=args.val_tasks,
        variants=args.variants,
        workers=args.workers,
        options=options,
    )
    print(json.dumps({k: v for k, v in report.items() if k != "curve"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
