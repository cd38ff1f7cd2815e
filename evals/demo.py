"""`make demo`: the project's own trained MiMo model fixes a bug in a repository it has never seen.

1. A held-out buggy repository from the task family (test split: program templates the model never
   trained on), with its issue text.
2. `mimo-agent fix-issue` with the embedded engine on `models/mimo-tiny-coder` (global + sliding-window
   layers with sinks, MoE, MTP speculative decoding, grammar-constrained tool calls), streaming its steps.
3. The patch, graded the SWE-bench way (the instance's own venv, the hidden tests), then the run's
   decode speed, MTP accepted length and tool-call validity.

Run: `python -m mimo_agent.evals.demo [--model DIR] [--out DIR] [--seed N]`. Prints a JSON summary at
the end. Exit 0 when every stage ran (whether or not the model fixed the bug: the summary says), 1 when
a stage failed, 2 for bad arguments (a missing checkpoint: `make tiny-model` builds it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mimo_agent.evals.swebench.dataset import load_instances
from mimo_agent.evals.swebench.grade import GradeOptions, grade_predictions
from mimo_agent.evals.swebench.predictions import Prediction
from mimo_agent.evals.swebench.specs import load_specs
from mimo_agent.evals.tasks import PYTEST_REQUIREMENT, generate_split
from mimo_agent.evals.tiny_model.run_stats import stats_from_trajectory

DEFAULT_MODEL = Path("models/mimo-tiny-coder")
MAX_STEPS = 20
RUN_TIMEOUT = 900.0


def say(text: str) -> None:
    print(f"\n=== {text}", file=sys.stderr, flush=True)


def fix_issue(repo: Path, issue: Path, model: Path, work: Path) -> tuple[int, Path, Path]:
    """Run the real CLI in a child process; its steps stream to this terminal. Returns (exit code, patch, trajectory).

    The child's `python` is this interpreter (first on PATH), so the agent's `python -m pytest` finds pytest.
    Commands run unasked (`yolo`, as in the SWE-bench harness): the repository is a generated throwaway
    copy, and the model was trained to run the issue's snippet with `python - <<'EOF'`, which the
    auto-edit risk table would refuse."""
    patch, trajectory = work / "model.patch", work / "trajectory.json"
    command = [
        sys.executable, "-m", "mimo_agent", "fix-issue", "--repo", str(repo), "--issue-file", str(issue),
        "--backend", "embedded", "--model", str(model), "--permission-mode", "yolo",
        "--max-steps", str(MAX_STEPS), "--output", str(patch), "--trajectory", str(trajectory),
    ]  # fmt: skip
    print("$ mimo-agent " + " ".join(command[3:]), file=sys.stderr, flush=True)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    env.pop("PYTEST_ADDOPTS", None)
    try:
        code = subprocess.run(command, env=env, timeout=RUN_TIMEOUT, start_new_session=True).returncode
    except subprocess.TimeoutExpired:
        code = 124
    return code, patch, trajectory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimo_agent.evals.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help=f"checkpoint (default: {DEFAULT_MODEL})"
    )
    parser.add_argument("--out", type=Path, help="where to keep the demo's files (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=0, help="which held-out task to generate")
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        parser.error(f"--model {args.model}: no checkpoint there (build one with `make tiny-model`)")
    work = args.out or Path(tempfile.mkdtemp(prefix="mimo-demo-"))
    work.mkdir(parents=True, exist_ok=True)

    say("1/3 a held-out buggy repository (test split: programs the model never trained on)")
    shutil.rmtree(work / "tasks", ignore_errors=True)  # the demo's own folder, from an earlier run with --out
    instances_path, specs_path = generate_split(
        "test", 1, args.seed, work / "tasks", pip_install=(PYTEST_REQUIREMENT,)
    )
    instance = json.loads(instances_path.read_text().splitlines()[0])
    spec = json.loads(specs_path.read_text())[instance["instance_id"]]
    repo = work / "tasks" / spec["source"]["path"]
    issue = work / "issue.md"
    issue.write_text(instance["problem_statement"], encoding="utf-8")
    print(f"{instance['instance_id']}\n\n{instance['problem_statement']}", file=sys.stderr)

    say(f"2/3 mimo-agent fix-issue, embedded engine, trained checkpoint {args.model}")
    code, patch_path, trajectory = fix_issue(repo, issue, args.model, work)
    if code == 2 or not trajectory.is_file():
        print(f"fix-issue failed (exit code {code}); see the messages above", file=sys.stderr)
        return 1
    patch = patch_path.read_text(encoding="utf-8") if patch_path.is_file() else ""
    outcome = json.loads(trajectory.read_text(encoding="utf-8"))["outcome"] or {}

    say("3/3 the patch, graded with the SWE-bench-style harness (instance venv, hidden tests)")
    print(patch or "(no change)", file=sys.stderr)
    prediction = Prediction(instance["instance_id"], str(args.model), patch)
    graded = grade_predictions(
        load_instances(str(instances_path)),
        {prediction.instance_id: prediction},
        load_specs(specs_path),
        GradeOptions(output=work / "grading", run_id="demo"),
    )
    resolved = graded.report.get("resolved_instances", 0) == 1
    print(f"hidden tests: {'PASS — resolved' if resolved else 'FAIL — not resolved'}", file=sys.stderr)
    summary: dict[str, Any] = {
        "work_dir": str(work),
        "model": str(args.model),
        "instance": instance["instance_id"],
        "outcome": outcome.get("kind"),
        "patch_lines": len(patch.splitlines()),
        "resolved": resolved,
        **stats_from_trajectory(trajectory).summary(),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
