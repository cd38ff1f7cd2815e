"""`--backend docker`: hand the run to the official `swebench.harness.run_evaluation`, where Docker answers.

The official harness writes `logs/` and its summary into its working directory, so it runs with the
output folder as its working directory: both backends then leave the same layout under `--output`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mimo_agent.evals.swebench.errors import BackendUnavailableError
from mimo_agent.evals.swebench.predictions import GOLD, Prediction


def docker_problem() -> str | None:
    """None when a Docker engine answers `docker info`, else why not."""
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "the docker command is not installed"
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if probe.returncode != 0:
        lines = [line for line in (probe.stderr or probe.stdout).splitlines() if line.strip()]
        return f"`docker info` failed: {lines[-1].strip() if lines else f'exit code {probe.returncode}'}"
    return None


def run_official(
    dataset: str,
    split: str,
    predictions_source: str,
    predictions: dict[str, Prediction],
    run_id: str,
    workers: int,
    timeout: float,
    output: Path,
) -> int:
    """Run the official harness on the selected instances; returns its exit code."""
    problem = docker_problem()
    if problem:
        raise BackendUnavailableError(
            f"--backend docker needs a running Docker engine, and none is available: {problem}"
        )
    output.mkdir(parents=True, exist_ok=True)
    if predictions_source == GOLD:
        predictions_path = GOLD
    else:  # the file filtered to the selection (`empty` is refused: the official harness skips it)
        predictions_path = str(output / f"predictions.{run_id}.jsonl")
        Path(predictions_path).write_text(
            "".join(json.dumps(p.to_dict()) + "\n" for p in predictions.values())
        )
    dataset_name = str(Path(dataset).resolve()) if Path(dataset).exists() else dataset
    command = [
        sys.executable,
        "-m",
        "swebench.harness.run_evaluation",
        "--dataset_name",
        dataset_name,
        "--split",
        split,
        "--predictions_path",
        predictions_path,
        "--instance_ids",
        *predictions,
        "--max_workers",
        str(workers),
        "--run_id",
        run_id,
        "--timeout",
        str(int(timeout)),
    ]
    return subprocess.run(command, cwd=output).returncode
