"""`mimo-agent fix-issue`: a headless run that ends with a patch, a trajectory and an exit code.

Exit codes: 0 a patch was produced, 1 the run made no change, 2 an error (bad arguments, backend failure,
an unexpected failure inside the run). Everything printed passes through the Redactor, as the trajectory
does; the patch written with `--output` (or printed without `--json`) is exact.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import RunRequest, default_trajectory_path, run_headless
from mimo_agent.backends.factory import BACKENDS
from mimo_agent.cli._common import CliError
from mimo_agent.redact import Redactor
from mimo_agent.settings import SettingsError


def add_backend_options(
    parser: argparse.ArgumentParser,
    *,
    replay_metavar: str = "FILE",
    replay_help: str = "JSON Lines of raw model outputs (replay backend)",
    permission_help: str = "what runs without asking; in headless runs 'ask' means deny with a message (default: ask)",
) -> None:
    """Backend flags shared by every command that drives the agent (fix-issue, chat, eval run)."""
    group = parser.add_argument_group("model backend")
    group.add_argument(
        "--backend", choices=sorted(BACKENDS), help="where completions come from (default: embedded)"
    )
    group.add_argument("--model", metavar="DIR", help="checkpoint directory (embedded, transformers)")
    group.add_argument(
        "--base-url", metavar="URL", help="OpenAI-compatible server, e.g. http://127.0.0.1:30000/v1 (openai)"
    )
    group.add_argument("--model-name", metavar="NAME", help="model name sent to the server (openai)")
    group.add_argument("--replay", metavar=replay_metavar, help=replay_help)
    group.add_argument(
        "--permission-mode", choices=["read-only", "ask", "auto-edit", "yolo"], help=permission_help
    )
    group.add_argument("--max-steps", type=int, metavar="N", help="model calls before the run stops")


def backend_flags(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Only the flags the user set, as a settings layer (so config files still apply to the rest)."""
    flags: dict[str, dict[str, Any]] = {}
    for section, key, value in (
        ("model", "backend", args.backend),
        ("model", "path", args.model),
        ("model", "base_url", args.base_url),
        ("model", "model_name", args.model_name),
        ("model", "replay", args.replay),
        ("permissions", "mode", args.permission_mode),
        ("budgets", "max_steps", args.max_steps),
    ):
        if value is not None:
            flags.setdefault(section, {})[key] = value
    return flags


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fix-issue",
        help="run the agent headless on a repository and write the resulting patch",
        description=(
            "Run the agent without a screen until it finishes or a budget runs out, then write the diff "
            "against the starting commit and the trajectory. Exit codes: 0 a patch was produced, 1 no "
            "change, 2 error."
        ),
    )
    parser.add_argument("--repo", type=Path, required=True, help="git repository to work in")
    task = parser.add_mutually_exclusive_group(required=True)
    task.add_argument("--issue", metavar="TEXT", help="the issue text")
    task.add_argument("--issue-file", type=Path, metavar="F", help="a file holding the issue text")
    add_backend_options(parser)
    parser.add_argument("--output", type=Path, metavar="PATCH", help="write the patch here (default: stdout)")
    parser.add_argument(
        "--trajectory",
        type=Path,
        metavar="FILE",
        help="write the trajectory JSON here (default: .mimo-agent/trajectories/RUN.json in the repository)",
    )
    parser.add_argument("--json", action="store_true", help="stream one JSON event per line on stdout")
    parser.set_defaults(func=_run)


def _issue_text(args: argparse.Namespace) -> str:
    if args.issue is not None:
        return args.issue
    try:
        return args.issue_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{args.issue_file}: cannot read the issue file: {exc.strerror}") from exc


def event_printer(as_json: bool, redactor: Redactor | None = None) -> Callable[[ev.Event], None]:
    """Events as JSON lines on stdout, or as short progress lines on stderr; secrets redacted either way."""
    redact = redactor or Redactor()

    def on_event(event: ev.Event) -> None:
        if as_json:
            print(json.dumps(redact.value(event.to_json()), ensure_ascii=False), flush=True)
            return
        line = _human(event)
        if line:
            print(redact.text(line), file=sys.stderr, flush=True)

    return on_event


def _human(event: ev.Event) -> str | None:
    if isinstance(event, ev.StepStarted):
        return f"── step {event.step} ({event.prompt_tokens} prompt tokens)"
    if isinstance(event, ev.ToolCallParsed):
        args = json.dumps(event.arguments, ensure_ascii=False)
        fixed = f"  [repaired: {', '.join(event.repairs)}]" if event.repairs else ""
        return f"  → {event.name} {args[:160]}{'…' if len(args) > 160 else ''}{fixed}"
    if isinstance(event, ev.ToolFinished):
        first = event.output.strip().splitlines()[:1]
        return f"  {'✗' if event.is_error else '✓'} {event.name} ({event.seconds:.2f}s) {first[0][:120] if first else ''}"
    if isinstance(event, ev.ToolCallInvalid):
        return f"  ✗ invalid tool call: {'; '.join(event.errors)[:200]}"
    if isinstance(event, ev.Notice):
        return f"  ! {event.kind}: {event.text[:100]}"
    if isinstance(event, ev.Compacted):
        return f"  ! compacted {event.turns_summarised} turns: {event.tokens_before} → {event.tokens_after} tokens"
    if isinstance(event, ev.RunFinished):
        return f"── {event.outcome['kind']}: {event.outcome['message']} ({event.steps} steps, {event.seconds:.1f}s)"
    return None


def _run(args: argparse.Namespace) -> int:
    trajectory = args.trajectory or default_trajectory_path(args.repo)
    request = RunRequest(
        workspace=args.repo,
        task=_issue_text(args),
        flags=backend_flags(args),
        trajectory_path=trajectory,
    )
    redactor = Redactor()
    try:
        result = run_headless(request, on_event=event_printer(args.json, redactor))
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    saved = trajectory if trajectory.is_file() else None  # none when the run could not start
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(result.patch, encoding="utf-8")
    elif not args.json and result.patch:
        sys.stdout.write(result.patch)
    if args.json:
        payload = {"outcome": result.outcome.to_json(), "patch": result.patch, "trajectory": str(saved or "")}
        record = {"type": "result", "time": round(time.time(), 3), "payload": payload}
        print(json.dumps(redactor.value(record), ensure_ascii=False), flush=True)
    elif saved is not None:
        print(f"trajectory: {saved}", file=sys.stderr)
    if result.outcome.kind is OutcomeKind.ERROR:
        print(f"mimo-agent fix-issue: error: {redactor.text(result.outcome.message)}", file=sys.stderr)
        return 2
    return 0 if result.patch else 1
