"""Run the agent over SWE-bench instances: one working copy per instance, predictions appended as they finish.

Layout of `OUTPUT/RUN_ID/`: `predictions.jsonl` (official format, one line per finished instance, written
whole and flushed so a killed run keeps what it finished), `errors.jsonl` (one line per failed attempt),
`trajectories/ID.json`, `patches/ID.diff`, `logs/ID.log` (working-copy preparation) and, while an
instance runs, `workspaces/ID/`. Instances already in `predictions.jsonl` are skipped, so rerunning the
same command resumes. An instance whose run failed (environment, harness, or an agent `error` outcome
such as a backend failure) gets no prediction and is tried again next time; a run that ends any other
way (finished, budget, loop, invalid calls) is the model's result and is kept, even with an empty patch.
With `grade_timeout` set, each prediction is graded by the worker that made it, right after it is
written (the same `evaluate_instance` and log folders as `grade`), so progress can count resolved
instances; predictions of an earlier run are graded too, unless they already have a `report.json`.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mimo_agent.agent import events as ev
from mimo_agent.agent.outcome import Outcome, OutcomeKind, RunStopped
from mimo_agent.agent.runner import RunRequest, RunResult, run_headless
from mimo_agent.backends.base import Backend, Completion, Message, complete, context_limit, text_counter
from mimo_agent.backends.factory import make_backend
from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.environment import EnvironmentCache
from mimo_agent.evals.swebench.errors import EnvironmentBuildError, PredictionsError, WorkspaceError
from mimo_agent.evals.swebench.evaluate import evaluate_instance, instance_log_dir
from mimo_agent.evals.swebench.grade import clock
from mimo_agent.evals.swebench.predictions import Prediction, load_predictions
from mimo_agent.evals.swebench.process import Stopped, stop_all
from mimo_agent.evals.swebench.specs import Spec, SpecBook
from mimo_agent.evals.swebench.workspace import AgentWorkspace, prepare_workspace
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.definition import ToolDef

PREDICTIONS = "predictions.jsonl"
ERRORS = "errors.jsonl"


@dataclass(frozen=True)
class RunOptions:
    output: Path
    run_id: str
    model_name: str
    flags: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # the agent's settings layer
    replay_dir: Path | None = None  # replay backend: DIR/INSTANCE_ID.jsonl per instance
    workers: int = 1
    build_timeout: float = 1800
    cache_dir: Path | None = None  # default: OUTPUT/envs, shared with `grade`
    keep_workspaces: bool = False
    # grade each prediction once written, with this many seconds per test run; None: no grading
    grade_timeout: float | None = None

    @property
    def run_dir(self) -> Path:
        return (self.output / self.run_id).resolve()

    @property
    def environments(self) -> Path:
        return (self.cache_dir or self.output / "envs").resolve()

    def flags_for(self, instance: Instance) -> dict[str, dict[str, Any]]:
        flags = {section: dict(values) for section, values in self.flags.items()}
        if self.replay_dir is not None:
            replay = self.replay_dir.resolve() / f"{instance.instance_id}.jsonl"
            flags.setdefault("model", {})["replay"] = str(replay)
        return flags


@dataclass(frozen=True)
class Finished:
    """What became of one instance in this run (the files are the record; this feeds progress)."""

    instance_id: str
    status: str  # "predicted", "skipped" (already predicted), "error" or "interrupted"
    detail: str  # the agent's outcome kind, or the error kind
    has_patch: bool = False
    steps: int = 0
    seconds: float = 0.0
    graded: str = ""  # when grading: "resolved", "unresolved", "empty_patch" or "error (KIND)"


@dataclass(frozen=True)
class InferenceResult:
    predictions_path: Path
    errors_path: Path
    finished: list[Finished]

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.finished)


class SerializedBackend:
    """One loaded model shared by every worker; calls take turns, while tools and tests run in parallel.

    The optional members (`cancel`, `context_limit`, `count_text`) pass through only where the wrapped
    backend has them, so the agent sizes its context and counts text with the model's own tokenizer.
    """

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_limit = context_limit(inner)
        self._lock = threading.Lock()
        self._count_text = text_counter(inner)

    @property
    def count_text(self) -> Callable[[str], int] | None:
        """The wrapped tokenizer, taking turns like the model (a fast tokenizer refuses concurrent use)."""
        counter = self._count_text
        if counter is None:
            return None

        def counted(text: str) -> int:
            with self._lock:
                return counter(text)

        return counted

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion:
        with self._lock:
            return complete(self.inner, messages, tools, on_delta=on_delta, cancel=cancel)

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        with self._lock:
            return self.inner.count_tokens(messages, tools)


def shared_backend(model: ModelSettings) -> Backend | None:
    """The model loaded once for the whole run; None for `replay`, whose outputs are per instance.

    Raises BackendError when the model cannot be loaded.
    """
    if model.backend == "replay":
        return None
    return SerializedBackend(make_backend(model))


def default_model_name(model: ModelSettings) -> str:
    """`mimo-agent/<checkpoint folder>` for a local model, `mimo-agent/<model name>` for a server's, else
    `mimo-agent/<backend>`."""
    if model.backend in ("embedded", "transformers") and model.path:
        return f"mimo-agent/{Path(model.path).name}"
    if model.backend == "openai" and model.model_name:
        return f"mimo-agent/{model.model_name}"
    return f"mimo-agent/{model.backend}"


class _JsonLines:
    """An append-only JSON Lines file shared by the workers: each record is one whole line, flushed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path.is_file():
            _drop_torn_line(path)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()


def _drop_torn_line(path: Path) -> None:
    """A run killed mid-write leaves a partial last line; cut it so the next record starts a line."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def run_inference(
    instances: list[Instance],
    specs: SpecBook,
    options: RunOptions,
    backend: Backend | None = None,
    progress: TextIO | None = sys.stderr,
) -> InferenceResult:
    """Predict every instance not yet in `predictions.jsonl`; `backend` is shared (None: built per run).

    Specs are looked up first, so a missing one fails the run at once (SpecError); so does a
    predictions file of another model (PredictionsError).
    """
    spec_of = {instance.instance_id: specs.for_instance(instance) for instance in instances}
    run_dir = options.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    predictions = _JsonLines(run_dir / PREDICTIONS)
    done = _predicted(predictions.path, instances, options.model_name)
    cache = EnvironmentCache(options.environments, options.build_timeout)
    worker = _Worker(options, cache, backend, predictions, _JsonLines(run_dir / ERRORS))
    todo = [instance for instance in instances if instance.instance_id not in done]
    tracker = _Progress(len(instances), progress, grading=options.grade_timeout is not None)
    finished: list[Finished] = []
    if options.grade_timeout is None:
        for instance_id in done:
            finished.append(Finished(instance_id, "skipped", "", has_patch=bool(done[instance_id])))
            tracker.update(finished[-1])
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        futures = [pool.submit(worker.infer, instance, spec_of[instance.instance_id]) for instance in todo]
        if options.grade_timeout is not None:  # earlier runs' predictions: grade what is not graded yet
            futures += [
                pool.submit(
                    worker.grade_earlier, instance, spec_of[instance.instance_id], done[instance.instance_id]
                )
                for instance in instances
                if instance.instance_id in done
            ]
        try:
            for future in as_completed(futures):
                finished.append(future.result())
                tracker.update(finished[-1])
        except KeyboardInterrupt:  # running agents stop at their next event; builds and tests are killed
            worker.stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise
    return InferenceResult(predictions.path, worker.errors.path, finished)


def _predicted(path: Path, instances: list[Instance], model_name: str) -> dict[str, str]:
    """Instance id → patch of the predictions already in the file (they are not redone)."""
    if not path.is_file():
        return {}
    _drop_torn_line(path)
    existing = load_predictions(str(path), instances)
    models = {prediction.model_name_or_path for prediction in existing.values()}
    if models - {model_name}:
        raise PredictionsError(
            f"{path}: holds predictions of {', '.join(sorted(models))}, not {model_name}; "
            "pass that --model-name to resume, or another --run-id"
        )
    return {key: prediction.model_patch or "" for key, prediction in existing.items()}


class _Worker:
    """One instance end to end; every failure becomes a record, never an exception out of the pool."""

    def __init__(
        self,
        options: RunOptions,
        cache: EnvironmentCache,
        backend: Backend | None,
        predictions: _JsonLines,
        errors: _JsonLines,
    ) -> None:
        self.options = options
        self.cache = cache
        self.backend = backend
        self.predictions = predictions
        self.errors = errors
        self.stopping = threading.Event()

    def infer(self, instance: Instance, spec: Spec) -> Finished:
        started = time.monotonic()
        iid = instance.instance_id
        run_dir = self.options.run_dir
        root = run_dir / "workspaces" / iid
        try:
            try:
                workspace = prepare_workspace(
                    self.cache, instance, spec, root, run_dir / "logs" / f"{iid}.log"
                )
            except EnvironmentBuildError as exc:
                return self._fail(iid, "env_build_failed", str(exc), started)
            except WorkspaceError as exc:
                return self._fail(iid, "workspace_failed", str(exc), started)
            result = self._run_agent(instance, workspace)
            patches = run_dir / "patches"
            patches.mkdir(exist_ok=True)
            (patches / f"{iid}.diff").write_text(result.patch, encoding="utf-8")
            kind = result.outcome.kind
            if kind is OutcomeKind.INTERRUPTED:
                return Finished(iid, "interrupted", kind.value, seconds=time.monotonic() - started)
            if kind is OutcomeKind.ERROR:
                return self._fail(iid, "agent_error", result.outcome.message, started)
            prediction = Prediction(iid, self.options.model_name, result.patch)
            self.predictions.append(prediction.to_dict())
            graded = self._grade(instance, spec, prediction)
            return Finished(
                iid,
                "predicted",
                kind.value,
                bool(result.patch),
                result.steps,
                time.monotonic() - started,
                graded,
            )
        except (Stopped, RunStopped):  # Ctrl-C: an environment build or the agent's start was cut short
            return Finished(iid, "interrupted", "stopped", seconds=time.monotonic() - started)
        except Exception as exc:  # one instance's crash must not end the run; the traceback is kept
            return self._fail(
                iid, "harness_error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", started
            )
        finally:
            if not self.options.keep_workspaces:
                shutil.rmtree(root, ignore_errors=True)

    def grade_earlier(self, instance: Instance, spec: Spec, patch: str) -> Finished:
        """A prediction from an earlier run: graded now, or its `report.json` read back."""
        started = time.monotonic()
        graded = self._grade(instance, spec, Prediction(instance.instance_id, self.options.model_name, patch))
        return Finished(
            instance.instance_id,
            "skipped",
            "",
            bool(patch),
            seconds=time.monotonic() - started,
            graded=graded,
        )

    def _grade(self, instance: Instance, spec: Spec, prediction: Prediction) -> str:
        """The grade outcome of a written prediction ("" when not grading); never raises."""
        if self.options.grade_timeout is None:
            return ""
        log_dir = instance_log_dir(self.options.output.resolve(), self.options.run_id, prediction)
        outcome = evaluate_instance(
            instance, spec, prediction, self.cache, log_dir, self.options.grade_timeout
        )
        return outcome.status if outcome.status != "error" else f"error ({outcome.detail})"

    def _run_agent(self, instance: Instance, workspace: AgentWorkspace) -> RunResult:
        trajectory = self.options.run_dir / "trajectories" / f"{instance.instance_id}.json"
        request = RunRequest(
            workspace=workspace.repo,
            task=instance.problem_statement,
            flags=self.options.flags_for(instance),
            trajectory_path=trajectory,
            shell_env=workspace.environ,  # the agent's commands run in the instance's venv
        )
        return run_headless(request, self._on_event, backend=self.backend)

    def _on_event(self, event: ev.Event) -> None:
        if self.stopping.is_set() and not isinstance(event, ev.RunFinished):
            raise RunStopped(Outcome(OutcomeKind.INTERRUPTED, "the SWE-bench run was interrupted"))

    def _fail(self, instance_id: str, kind: str, message: str, started: float) -> Finished:
        seconds = time.monotonic() - started
        record = {"instance_id": instance_id, "kind": kind, "message": message, "seconds": round(seconds, 2)}
        self.errors.append({**record, "time": round(time.time(), 3)})
        return Finished(instance_id, "error", kind, seconds=seconds)


class _Progress:
    """One line per instance: done/total, patches and resolved so far, errors, elapsed and ETA (from
    instances run now). Resolved is counted only when grading as the run goes; else it reads n/a."""

    def __init__(self, total: int, stream: TextIO | None, grading: bool = False) -> None:
        self.total = total
        self.stream = stream
        self.grading = grading
        self.started = time.monotonic()
        self.done = self.fresh = self.patches = self.errors = self.resolved = 0

    def update(self, item: Finished) -> None:
        self.done += 1
        self.fresh += item.status != "skipped"
        self.patches += item.has_patch
        self.errors += item.status == "error"
        self.resolved += item.graded == "resolved"
        if self.stream is None:
            return
        elapsed = time.monotonic() - self.started
        left = self.total - self.done
        eta = clock(elapsed / self.fresh * left) if self.fresh and left else ("0:00" if not left else "?")
        if item.status == "skipped":
            note = "already predicted"
        elif item.status == "predicted":
            note = f"{item.detail}, {'patch' if item.has_patch else 'no patch'}, {item.steps} steps, {item.seconds:.1f}s"
        else:
            note = f"{item.status}: {item.detail}, {item.seconds:.1f}s"
        if item.graded:
            note += f"; graded {item.graded}"
        resolved = str(self.resolved) if self.grading else "n/a (no --grade)"
        print(
            f"[{self.done}/{self.total}] patches {self.patches}, resolved {resolved}, errors {self.errors}"
            f" | elapsed {clock(elapsed)} | eta {eta} | {item.instance_id}: {note}",
            file=self.stream,
            flush=True,
        )
