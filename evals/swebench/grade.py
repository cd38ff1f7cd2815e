"""Grade a set of predictions locally: a thread pool over instances, progress on stderr, then the summary."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.environment import EnvironmentCache
from mimo_agent.evals.swebench.evaluate import Outcome, evaluate_instance, instance_log_dir
from mimo_agent.evals.swebench.predictions import Prediction
from mimo_agent.evals.swebench.process import stop_all
from mimo_agent.evals.swebench.specs import SpecBook
from mimo_agent.evals.swebench.summary import write_summary


@dataclass(frozen=True)
class GradeOptions:
    output: Path
    run_id: str
    workers: int = 1
    timeout: float = 1800
    build_timeout: float = 1800
    cache_dir: Path | None = None  # default: OUTPUT/envs

    @property
    def environments(self) -> Path:
        return self.cache_dir or self.output / "envs"


@dataclass(frozen=True)
class GradeResult:
    report: dict[str, Any]
    report_path: Path
    outcomes: list[Outcome]


def grade_predictions(
    instances: list[Instance],
    predictions: dict[str, Prediction],
    specs: SpecBook,
    options: GradeOptions,
    progress: TextIO | None = sys.stderr,
) -> GradeResult:
    """Grade every instance that has a prediction; instances with a `report.json` already are not redone.

    Specs are looked up before any work starts, so a missing spec fails the run at once (SpecError).
    """
    todo = [instance for instance in instances if instance.instance_id in predictions]
    spec_of = {instance.instance_id: specs.for_instance(instance) for instance in todo}
    output = options.output.resolve()  # commands run in other folders (the repository, the venv)
    cache = EnvironmentCache(options.environments.resolve(), options.build_timeout)
    tracker = _Progress(len(todo), progress)
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        futures = [
            pool.submit(
                evaluate_instance,
                instance,
                spec_of[instance.instance_id],
                predictions[instance.instance_id],
                cache,
                instance_log_dir(output, options.run_id, predictions[instance.instance_id]),
                options.timeout,
            )
            for instance in todo
        ]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                tracker.update(outcome)
        except KeyboardInterrupt:  # kill the tests now (they run in their own sessions), record nothing new
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise
    report, path = write_summary(instances, predictions, output, options.run_id)
    return GradeResult(report, path, outcomes)


class _Progress:
    """One line per finished instance: done/total, resolved so far, elapsed and ETA (from instances graded now)."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = total
        self.stream = stream
        self.started = time.monotonic()
        self.done = 0
        self.fresh = 0
        self.resolved = 0
        self.errors = 0

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.fresh += 0 if outcome.cached else 1
        self.resolved += outcome.status == "resolved"
        self.errors += outcome.status == "error"
        if self.stream is None:
            return
        elapsed = time.monotonic() - self.started
        left = self.total - self.done
        eta = clock(elapsed / self.fresh * left) if self.fresh and left else ("0:00" if not left else "?")
        note = "already graded" if outcome.cached else f"{outcome.seconds:.1f}s"
        detail = f" {outcome.detail}" if outcome.detail else ""
        print(
            f"[{self.done}/{self.total}] resolved {self.resolved}, errors {self.errors} | elapsed {clock(elapsed)}"
            f" | eta {eta} | {outcome.instance_id}: {outcome.status}{detail} ({note})",
            file=self.stream,
            flush=True,
        )


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
