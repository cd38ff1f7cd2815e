"""Expert trajectories for the demo model: `python -m mimo_agent.evals.tiny_model.trajectories --tasks DIR --out FILE`.

Each line of the JSONL is one resolved episode: the conversation the agent held at the end (OpenAI-style
messages with tool calls and tool results), the expert's raw outputs, the chat-template text the model
trains on and the character spans of the assistant turns (the only part the loss should count). A
summary (counts, steps, call validity, time) is written next to it as `FILE.summary.json`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mimo_agent.evals.tiny_model.episode import CallCounts, Episode, run_episode
from mimo_agent.evals.tiny_model.gold import GoldPatchError
from mimo_agent.evals.tiny_model.render import END_OF_TURN, RenderError, render_with_spans


def load_tasks(tasks_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(instance, spec) pairs of a generated split, in file order."""
    specs = json.loads((tasks_dir / "specs.json").read_text(encoding="utf-8"))
    lines = (tasks_dir / "instances.jsonl").read_text(encoding="utf-8").splitlines()
    instances = [json.loads(line) for line in lines if line.strip()]
    return [(instance, specs[instance["instance_id"]]) for instance in instances]


def trajectory_record(episode: Episode, variant: int, seed: int) -> dict[str, Any]:
    """The JSONL row for a resolved episode; raises RenderError when a turn would not render as written."""
    rendered = render_with_spans(episode.messages, episode.tools)
    for output, (start, end) in zip(episode.outputs, rendered.assistant_spans, strict=True):
        if rendered.text[start:end] != output + END_OF_TURN:
            raise RenderError(
                f"{episode.instance_id}: an assistant turn renders differently from what was written"
            )
    return {
        "instance_id": episode.instance_id,
        "variant": variant,
        "seed": seed,
        "steps": len(episode.outputs),
        "tools_called": [
            m["tool_calls"][0]["function"]["name"] for m in episode.messages if m.get("tool_calls")
        ],
        "messages": episode.messages,
        "outputs": episode.outputs,
        "text": rendered.text,
        "assistant_spans": [list(span) for span in rendered.assistant_spans],
        "patch": episode.patch,
        "seconds": episode.seconds,
    }


@dataclass(frozen=True)
class Job:
    instance: dict[str, Any]
    spec: dict[str, Any]
    variant: int
    seed: int
    tasks_dir: Path
    work_dir: Path

    @property
    def label(self) -> str:
        return f"{self.instance['instance_id']}#{self.variant}"


def solve(job: Job) -> tuple[dict[str, Any] | None, str, CallCounts]:
    """(row, "", calls) for a resolved episode, else (None, why, calls). Runs in a worker process too."""
    rng = random.Random(f"{job.seed}:{job.instance['instance_id']}:{job.variant}")
    # Each job gets its own folder, so workers never share a workspace.
    work_dir = job.work_dir / job.instance["instance_id"]
    try:
        episode = run_episode(job.instance, job.spec, job.tasks_dir, work_dir, rng)
    except GoldPatchError as exc:
        return None, f"gold patch: {exc}", CallCounts()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    if not episode.resolved:
        return None, episode.failure, episode.calls
    try:
        return trajectory_record(episode, job.variant, job.seed), "", episode.calls
    except RenderError as exc:
        return None, f"render: {exc}", episode.calls


def generate_trajectories(
    tasks_dir: Path,
    out_path: Path,
    *,
    seed: int = 0,
    variants: int = 1,
    limit: int | None = None,
    workers: int = 1,
    work_dir: Path | None = None,
    on_progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Write one JSONL row per resolved episode (`variants` differently-seeded episodes per task, in task
    order whatever `workers` is) and return the summary, also written to `out_path` + `.summary.json`.
    Unresolved episodes are counted by reason and left out. `work_dir` holds the scratch workspaces
    (default: a temporary folder); a fixed one makes paths in observations (tracebacks) repeatable."""
    started = time.monotonic()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    rejected: Counter[str] = Counter()
    examples: dict[str, str] = {}  # a few rejected episodes and why
    calls = CallCounts()
    with tempfile.TemporaryDirectory(prefix="mimo-expert-") as scratch, ExitStack() as stack:
        jobs = [
            Job(instance, spec, variant, seed, tasks_dir, work_dir or Path(scratch))
            for instance, spec in load_tasks(tasks_dir)[:limit]
            for variant in range(variants)
        ]
        if workers > 1:
            pool = stack.enter_context(
                ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            )
            results = pool.map(solve, jobs)
        else:
            results = map(solve, jobs)
        with out_path.open("w", encoding="utf-8") as out:
            for job, (row, failure, counts) in zip(jobs, results, strict=True):
                calls.add(counts)
                if row is None:
                    rejected[": ".join(failure.split(": ")[:2])] += 1
                    examples.setdefault(job.label, failure[:400])
                    on_progress(f"{job.label}: rejected: {failure}")
                    continue
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                rows.append(row)
                on_progress(f"{job.label}: {row['steps']} steps, {row['seconds']:.1f}s")
    summary = summarise(rows, rejected, calls, time.monotonic() - started, len(jobs))
    summary["workers"] = workers
    summary["rejected_examples"] = dict(list(examples.items())[:10])
    Path(f"{out_path}.summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def summarise(
    rows: list[dict[str, Any]], rejected: Counter[str], calls: CallCounts, seconds: float, episodes: int
) -> dict[str, Any]:
    steps = [row["steps"] for row in rows]
    chars = [len(row["text"]) for row in rows]
    return {
        "episodes": episodes,
        "trajectories": len(rows),
        "rejected": dict(sorted(rejected.items())),
        "steps": spread(steps),
        "text_chars": spread(chars),
        "tools_called": dict(Counter(name for row in rows for name in row["tools_called"]).most_common()),
        "calls": asdict(calls),
        "valid_call_rate": round((calls.parsed - calls.repaired) / max(1, calls.parsed + calls.invalid), 4),
        "generation_seconds": round(seconds, 1),
        "seconds_per_episode": round(seconds / max(1, episodes), 2),
    }


def spread(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "mean": round(statistics.fmean(values), 1),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "total": sum(values),
    }


def read_trajectories(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimo_agent.evals.tiny_model.trajectories",
        description="Solve a generated task split with the scripted expert through the real agent loop and "
        "write the resolved trajectories (conversation, chat-template text, assistant spans) as JSON Lines.",
    )
    parser.add_argument(
        "--tasks", type=Path, required=True, help="a split from `python -m mimo_agent.evals.tasks`"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="JSONL file to write (FILE.summary.json beside it)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same expert choices")
    parser.add_argument(
        "--variants", type=int, default=1, help="episodes per task, each choosing its own path"
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N tasks")
    parser.add_argument("--workers", type=int, default=1, help="episodes solved in parallel processes")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="scratch folder for the workspaces (default: a temporary one); fixing it makes the paths "
        "that tracebacks show, and so the texts, repeatable",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if not (args.tasks / "instances.jsonl").is_file() or not (args.tasks / "specs.json").is_file():
        parser.error(f"--tasks {args.tasks}: expected instances.jsonl and specs.json there")
    if args.variants < 1 or args.workers < 1:
        parser.error(f"--variants and --workers must be at least 1, got {args.variants} and {args.workers}")
    progress = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    summary = generate_trajectories(
        args.tasks,
        args.out,
        seed=args.seed,
        variants=args.variants,
        limit=args.limit,
        workers=args.workers,
        work_dir=args.work_dir,
        on_progress=progress,
    )
    print(json.dumps(summary, indent=1))
    return 0 if summary["trajectories"] else 1


if __name__ == "__main__":
    sys.exit(main())
