"""`mimo-agent eval`: benchmarks. `eval swe-bench run` (the agent makes predictions) and `grade`.

`add_selection_arguments` holds the options both SWE-bench commands share (dataset, selection, specs,
workers, run id, output). The harness (and through it the heavy `swebench` package) is imported only when
a command runs, keeping `mimo-agent --help` fast.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from mimo_agent.cli._common import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate on benchmarks (SWE-bench)",
        description="Evaluate on benchmarks. See `mimo-agent eval swe-bench --help`.",
    )
    parser.set_defaults(func=_help_of(parser))
    benchmarks = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    swe_bench = benchmarks.add_parser(
        "swe-bench",
        help="SWE-bench-style instances: run the agent on them, grade predictions locally (no Docker)",
        description="SWE-bench-style evaluation. Instances come from a dataset file; environments are built "
        "from a --specs file into per-instance venvs, so neither the agent's runs nor grading need Docker.",
    )
    swe_bench.set_defaults(func=_help_of(swe_bench))
    commands = swe_bench.add_subparsers(dest="swe_bench_command", metavar="COMMAND")
    _register_run(commands)
    _register_grade(commands)


def add_selection_arguments(parser: argparse.ArgumentParser, run_id_default: str) -> None:
    """Options shared by the SWE-bench commands: which instances, which environments, where results go."""
    parser.add_argument(
        "--dataset",
        required=True,
        metavar="FILE|NAME",
        help="instances: a .json (list), .jsonl or .parquet file with the SWE-bench fields, or a Hugging Face "
        "dataset name (only where the Hub can be reached and `datasets` is installed)",
    )
    parser.add_argument("--split", default="test", help="split of a Hugging Face dataset (default: test)")
    parser.add_argument("--instances", nargs="+", metavar="ID", help="only these instance ids")
    parser.add_argument("--slice", metavar="START:STOP", help="python slice of the selection, e.g. 0:10")
    parser.add_argument("--shuffle", action="store_true", help="shuffle the selection (before --slice)")
    parser.add_argument("--seed", type=int, default=0, help="seed for --shuffle (default: 0)")
    parser.add_argument(
        "--specs",
        type=Path,
        metavar="FILE",
        help="environment specs (format: shared/swebench/README.md); needed by `run` and by local grading",
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="instances processed in parallel (default: 1)"
    )
    parser.add_argument(
        "--run-id",
        metavar="ID",
        help=f"names the run; rerunning with the same id resumes it (default: {run_id_default})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("swebench-runs"),
        metavar="DIR",
        help="folder for logs, reports and (by default) cached environments (default: ./swebench-runs)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="cached environments, reused across runs and commands (default: OUTPUT/envs); the agent "
        "works on copies",
    )
    parser.add_argument(
        "--build-timeout",
        type=float,
        default=1800,
        metavar="S",
        help="seconds per environment build step (default: 1800)",
    )


def _register_run(commands: argparse._SubParsersAction) -> None:
    from mimo_agent.cli.fix_issue import add_backend_options

    run = commands.add_parser(
        "run",
        help="run the agent headless on each instance and write predictions.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Run the agent on each instance, as `fix-issue` does, with the problem statement as the task.
Per instance: the environment is built from --specs (or reused from the cache), its repository
is copied into a fresh one-commit git repository (no upstream history; the test_patch is not
applied), and the agent works there with the instance venv first on PATH. Commands run on this
machine without a sandbox: the permission mode defaults to yolo here; pass --permission-mode
auto-edit to allow only edits and commands the risk table calls safe.

Writes OUTPUT/RUN_ID/: predictions.jsonl (instance_id, model_name_or_path, model_patch; one line
per finished instance), errors.jsonl (instance_id, kind, message, seconds, time),
trajectories/ID.json, patches/ID.diff, logs/ID.log. Rerunning resumes: instances already in
predictions.jsonl are skipped; failed ones (environment build, harness crash, agent error such
as a backend failure) are retried.

--grade grades each prediction as soon as it is written (as `grade` does, into
OUTPUT/logs/run_evaluation/RUN_ID/MODEL/ID), so progress shows resolved so far; predictions of
an earlier run are graded too, unless already graded. Without it, resolved reads n/a.
The run then ends with `grade`'s summary (OUTPUT/MODEL.RUN_ID.json and the Markdown table).

--replay FILE replays the same outputs for every instance; --replay DIR replays DIR/ID.jsonl
for instance ID (a missing file is that instance's error).
Exit codes: 0 every selected instance has a prediction, 1 some failed (see errors.jsonl),
2 bad arguments.""",
    )
    add_selection_arguments(run, "the model name with '/' replaced by '__', e.g. mimo-agent__replay")
    add_backend_options(
        run,
        replay_metavar="FILE|DIR",
        replay_help="replay backend: one JSON Lines file of raw model outputs for every instance, or a folder "
        "of ID.jsonl files, one per instance",
        permission_help="what runs without asking; a command that would need asking is refused (default here: yolo)",
    )
    run.set_defaults(permission_mode="yolo")  # unattended: nobody is there to approve a command
    run.add_argument(
        "--model-name-or-path",
        metavar="NAME",
        help="model_name_or_path in the predictions (default: mimo-agent/<checkpoint folder> or "
        "mimo-agent/<backend>)",
    )
    run.add_argument(
        "--keep-workspaces",
        action="store_true",
        help="keep each instance's working copy in OUTPUT/RUN_ID/workspaces/ID (default: deleted after)",
    )
    run.add_argument(
        "--grade",
        action="store_true",
        help="grade each prediction locally as soon as it is written; progress then counts resolved",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=1800,
        metavar="S",
        help="with --grade: seconds per test run (default: 1800)",
    )
    run.set_defaults(func=_run)


def _register_grade(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade predictions with SWE-bench's rules",
        description="Grade predictions: per instance a fresh repository from its spec, the model patch, "
        "the test patch, the tests between marker lines, swebench's log parser and grading. Writes "
        "OUTPUT/logs/run_evaluation/RUN_ID/MODEL/ID/report.json and the run summary OUTPUT/MODEL.RUN_ID.json "
        "(official schema) plus a Markdown table. Instances with a report.json are not graded again.",
    )
    add_selection_arguments(grade, "gold, empty or the predictions file's stem")
    grade.add_argument(
        "--predictions",
        required=True,
        metavar="FILE|gold|empty",
        help="a predictions .json/.jsonl (instance_id, model_name_or_path, model_patch); `gold` for the "
        "dataset's patches; `empty` to run the tests with no patch (both validate instances and specs; "
        "`empty` only with --backend local: the official harness runs no tests for an empty patch)",
    )
    grade.add_argument(
        "--backend",
        choices=("local", "docker"),
        default="local",
        help="local: venvs built from --specs (default); docker: the official swebench harness, when a "
        "Docker engine answers",
    )
    grade.add_argument(
        "--timeout", type=float, default=1800, metavar="S", help="seconds per test run (default: 1800)"
    )
    grade.set_defaults(func=_grade)


@contextlib.contextmanager
def _needs_swebench() -> Iterator[None]:
    """The harness imports `swebench`; without it, say how to install it rather than show a traceback."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "swebench":
            raise
        raise CliError(
            "the SWE-bench harness needs the 'swebench' package: pip install 'swebench==5.0.2'"
        ) from exc


def _help_of(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _grade(args: argparse.Namespace) -> int:
    with _needs_swebench():
        from mimo_agent.evals.swebench.dataset import load_instances, select_instances
        from mimo_agent.evals.swebench.docker_backend import run_official
        from mimo_agent.evals.swebench.errors import HarnessError
        from mimo_agent.evals.swebench.grade import GradeOptions, grade_predictions
        from mimo_agent.evals.swebench.predictions import EMPTY, load_predictions
        from mimo_agent.evals.swebench.specs import load_specs
        from mimo_agent.evals.swebench.summary import markdown_summary
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    if args.backend == "docker" and args.predictions == EMPTY:
        raise CliError(
            "--predictions empty needs --backend local: the official harness counts an empty patch as "
            "empty_patch and runs no tests, so it would check nothing"
        )
    run_id = args.run_id or Path(args.predictions).stem
    try:
        instances = select_instances(
            load_instances(args.dataset, args.split), args.instances, args.slice, args.shuffle, args.seed
        )
        predictions = load_predictions(args.predictions, instances)
        if not predictions:
            raise CliError(
                f"{args.predictions}: no prediction for any of the {len(instances)} selected instances"
            )
        if args.backend == "docker":
            return run_official(
                args.dataset,
                args.split,
                args.predictions,
                predictions,
                run_id,
                args.workers,
                args.timeout,
                args.output,
            )
        if args.specs is None:
            raise CliError("--backend local needs --specs FILE (how to build each instance's environment)")
        options = GradeOptions(
            output=args.output,
            run_id=run_id,
            workers=args.workers,
            timeout=args.timeout,
            build_timeout=args.build_timeout,
            cache_dir=args.cache_dir,
        )
        result = grade_predictions(
            instances, predictions, load_specs(args.specs), options, progress=sys.stderr
        )
    except HarnessError as exc:
        raise CliError(str(exc)) from exc
    print(markdown_summary(result.report, f"SWE-bench run {run_id}"))
    print(f"Report: {result.report_path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from mimo_agent.backends.base import BackendError
    from mimo_agent.cli.fix_issue import backend_flags
    from mimo_agent.settings import SettingsError, load_settings

    with _needs_swebench():
        from mimo_agent.evals.swebench.dataset import load_instances, select_instances
        from mimo_agent.evals.swebench.errors import HarnessError
        from mimo_agent.evals.swebench.inference import (
            RunOptions,
            default_model_name,
            run_inference,
            shared_backend,
        )
        from mimo_agent.evals.swebench.predictions import load_predictions
        from mimo_agent.evals.swebench.specs import load_specs
        from mimo_agent.evals.swebench.summary import markdown_summary, write_summary
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    if args.specs is None:
        raise CliError("run needs --specs FILE (how to build each instance's environment)")
    flags = backend_flags(args)
    replay_dir = Path(args.replay) if args.replay and Path(args.replay).is_dir() else None
    if replay_dir is not None:
        del flags["model"]["replay"]
    try:
        model = load_settings(flags=flags).settings.model
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    if model.backend == "replay" and replay_dir is None and not model.replay:
        raise CliError("the replay backend needs --replay FILE|DIR")
    model_name = args.model_name_or_path or default_model_name(model)
    run_id = args.run_id or model_name.replace("/", "__")
    options = RunOptions(
        output=args.output,
        run_id=run_id,
        model_name=model_name,
        flags=flags,
        replay_dir=replay_dir,
        workers=args.workers,
        build_timeout=args.build_timeout,
        cache_dir=args.cache_dir,
        keep_workspaces=args.keep_workspaces,
        grade_timeout=args.timeout if args.grade else None,
    )
    try:
        instances = select_instances(
            load_instances(args.dataset, args.split), args.instances, args.slice, args.shuffle, args.seed
        )
        specs = load_specs(args.specs)
        for instance in instances:  # fail before loading a model, not at the first instance
            specs.for_instance(instance)
        backend = shared_backend(model)
        result = run_inference(instances, specs, options, backend, progress=sys.stderr)
    except (HarnessError, BackendError) as exc:
        raise CliError(str(exc)) from exc
    predicted = result.count("predicted") + result.count("skipped")
    failed = result.count("error")
    print(f"Predictions: {result.predictions_path} ({predicted} of {len(instances)} instances)")
    if failed:
        print(f"Errors: {failed} instance(s) failed this run; see {result.errors_path}")
    if args.grade and predicted:  # graded as they came: the summary reads their reports
        report, path = write_summary(
            instances,
            load_predictions(str(result.predictions_path), instances),
            args.output.resolve(),
            run_id,
        )
        print(markdown_summary(report, f"SWE-bench run {run_id}"))
        print(f"Report: {path}")
    return 1 if failed else 0
