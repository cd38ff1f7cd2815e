"""Agent overhead per step, the model excluded: the replay backend answers instantly, so what is timed is
the loop itself (parse, validate, permission, tool, observation shaping, events, trajectory and session
writes) as the history grows to `--steps` turns.

Run: `python -m mimo_agent.evals.bench_agent [--steps 200]`; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from mimo_agent.agent import events as ev
from mimo_agent.agent.runner import RunRequest, prepare_run
from mimo_agent.backends.replay import ReplayBackend

SOURCE = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60))


def call(name: str, **arguments: str) -> str:
    params = "".join(f"<parameter={k}>{v}</parameter>\n" for k, v in arguments.items())
    return f"Next step.\n<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"


def outputs(steps: int) -> list[str]:
    """Varied, valid calls (no loop nudges): reads of different ranges and greps, then finish."""
    out = []
    for i in range(steps - 1):
        if i % 2:
            out.append(call("grep", pattern=f"def f{i % 60}\\b"))
        else:
            out.append(
                call("read_file", path="mod.py", start_line=str(1 + i % 150), end_line=str(30 + i % 150))
            )
    return [*out, call("finish", summary="done")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "mod.py").write_text(SOURCE)
        for cmd in (
            ["init", "-q"],
            ["add", "-A"],
            ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "b"],
        ):
            subprocess.run(["git", *cmd], cwd=repo, check=True)
        step_times: list[float] = []
        marks: dict[str, float] = {}

        def on_event(event: ev.Event) -> None:
            now = time.perf_counter()
            if isinstance(event, ev.StepStarted):
                if "start" in marks:
                    step_times.append(now - marks["start"])
                marks["start"] = now

        request = RunRequest(
            repo,
            "benchmark task",
            flags={"permissions": {"mode": "yolo"}, "budgets": {"max_steps": args.steps + 1}},
            trajectory_path=Path(tmp) / "t.json",
            session_path=Path(tmp) / "s.jsonl",
            environ={"XDG_CONFIG_HOME": str(Path(tmp) / "xdg")},
        )
        prepared = prepare_run(request, on_event, backend=ReplayBackend(outputs(args.steps)))
        started = time.perf_counter()
        run = prepared.agent.run(request.task)
        total = time.perf_counter() - started
        prepared.close()
    last = step_times[-20:]
    result = {
        "steps": run.steps,
        "outcome": run.outcome.kind.value,
        "mean_ms_per_step": round(1000 * total / run.steps, 2),
        "first_20_steps_mean_ms": round(1000 * sum(step_times[:20]) / 20, 2),
        "last_20_steps_mean_ms": round(1000 * sum(last) / len(last), 2),
        "max_step_ms": round(1000 * max(step_times), 2),
        "goal_ms_at_200_steps": 50,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
