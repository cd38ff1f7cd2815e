"""`mimo-agent eval`: benchmarks. Today `eval swe-bench grade`; the agent's `run` joins `swe-bench` later.

`add_selection_arguments` holds the options every SWE-bench command shares (dataset, selection, specs,
workers, run id, output) so a future `run` sub-command takes the same ones. The harness (and through it
the heavy `swebench` package) is imported only when a command runs, keeping `mimo-agent --help` fast.
"""

from __future__ import annotations

import argparse
import sys
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
        help="SWE-bench-style instances: grade predictions locally (no Docker) or with the official harness",
        description="SWE-bench-style evaluation. Instances come from a dataset file; environments are built "
        "from a --specs file into per-instance venvs, so grading needs neither Docker nor GitHub.",
    )
    swe_bench.set_defaults(func=_help_of(swe_bench))
    commands = swe_bench.add_subparsers(dest="swe_bench_command", metavar="COMMAND")
    _register_grade(commands)


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
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
        help="environment specs (format: shared/swebench/README.md); needed by the local backend",
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="instances processed in parallel (default: 1)"
    )
    parser.add_argument(
        "--run-id",
        metavar="ID",
        help="names the run; rerunning with the same id resumes it (default: gold, empty or the predictions "
        "file's stem)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("swebench-runs"),
        metavar="DIR",
        help="folder for logs, reports and (by default) cached environments (default: ./swebench-runs)",
    )


def _register_grade(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade predictions with SWE-bench's rules",
        description="Grade predictions: per instance a fresh repository from its spec, the model patch, "
        "the test patch, the tests between marker lines, swebench's log parser and grading. Writes "
        "OUTPUT/logs/run_evaluation/RUN_ID/MODEL/ID/report.json and the run summary OUTPUT/MODEL.RUN_ID.json "
        "(official schema) plus a Markdown table. Instances with a report.json are not graded again.",
    )
    add_selection_arguments(grade)
    grade.add_argument(
        "--predictions",
        required=True,
        metavar="FILE|gold|empty",
        help="a predictions .json/.jsonl (instance_id, model_name_or_path, model_patch); `gold` for the "
        "dataset's patches; `empty` to run the tests with no patch (both validate instances and specs)",
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
    grade.add_argument(
        "--build-timeout",
        type=float,
        default=1800,
        metavar="S",
        help="seconds per environment build step (default: 1800)",
    )
    grade.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="cached environments (default: OUTPUT/envs); reused across runs",
    )
    grade.set_defaults(func=_grade)


def _help_of(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _grade(args: argparse.Namespace) -> int:
    try:
        from mimo_agent.evals.swebench.dataset import load_instances, select_instances
        from mimo_agent.evals.swebench.docker_backend import run_official
        from mimo_agent.evals.swebench.errors import HarnessError
        from mimo_agent.evals.swebench.grade import GradeOptions, grade_predictions
        from mimo_agent.evals.swebench.predictions import load_predictions
        from mimo_agent.evals.swebench.specs import load_specs
        from mimo_agent.evals.swebench.summary import markdown_summary
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "swebench":
            raise
        raise CliError("grading needs the 'swebench' package: pip install 'swebench==5.0.2'") from exc
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
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
