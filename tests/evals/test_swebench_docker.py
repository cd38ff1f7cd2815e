"""`grade --backend docker`: the official harness's command line, with `docker` and the harness faked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mimo_agent.cli._common import CliError
from mimo_agent.evals.swebench import docker_backend
from mimo_agent.evals.swebench.synthetic import make_instance, write_suite
from tests.evals.test_swebench_grade import grade

IDS = ["demo__calc-1", "demo__calc-2"]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rows = [make_instance(tmp_path, instance_id)[0] for instance_id in IDS]
    return write_suite(tmp_path, rows, {})[0]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict]]:
    """Every subprocess the docker backend starts; `docker info` answers, the harness exits with 3."""
    seen: list[tuple[list[str], dict]] = []

    def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
        seen.append((command, kwargs))
        code = 0 if command[:2] == ["docker", "info"] else 3
        return subprocess.CompletedProcess(command, code, stdout="Server Version: 27.0", stderr="")

    fake = SimpleNamespace(run=run, TimeoutExpired=subprocess.TimeoutExpired)
    monkeypatch.setattr(docker_backend, "subprocess", fake)
    return seen


def test_gold_runs_the_official_harness_in_the_output_folder(
    dataset: Path, tmp_path: Path, calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    argv = ["--dataset", dataset.name, "--output", str(out), "--predictions", "gold", "--workers", "2"]
    # the harness's exit code is the command's
    assert grade(*argv, "--backend", "docker", "--timeout", "900") == 3
    (probe, _), (command, kwargs) = calls
    assert probe == ["docker", "info"]
    assert command == [
        sys.executable,
        "-m",
        "swebench.harness.run_evaluation",
        "--dataset_name",
        str(dataset.resolve()),  # absolute: the harness runs in the output folder
        "--split",
        "test",
        "--predictions_path",
        "gold",
        "--instance_ids",
        *IDS,
        "--max_workers",
        "2",
        "--run_id",
        "gold",
        "--timeout",
        "900",
    ]
    assert kwargs["cwd"] == out and out.is_dir()


def test_a_predictions_file_is_filtered_to_the_selection(dataset: Path, tmp_path: Path, calls: list) -> None:
    preds = tmp_path / "preds.jsonl"
    rows = [{"instance_id": i, "model_name_or_path": "me/m", "model_patch": f"patch {i}"} for i in IDS]
    preds.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out"
    argv = ["--dataset", str(dataset), "--output", str(out), "--predictions", str(preds), "--run-id", "r"]
    assert grade(*argv, "--backend", "docker", "--instances", "demo__calc-2") == 3
    command = calls[-1][0]
    written = out / "predictions.r.jsonl"
    assert command[command.index("--predictions_path") + 1] == str(written)
    assert command[command.index("--instance_ids") + 1 : command.index("--max_workers")] == ["demo__calc-2"]
    assert [json.loads(line) for line in written.read_text().splitlines()] == [rows[1]]


def test_no_docker_engine_is_said_and_nothing_runs(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []

    def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
        seen.append(command)
        return subprocess.CompletedProcess(
            command, 1, stdout="", stderr="Cannot connect to the Docker daemon\n"
        )

    monkeypatch.setattr(docker_backend, "subprocess", SimpleNamespace(run=run, TimeoutExpired=TimeoutError))
    argv = ["--dataset", str(dataset), "--output", str(tmp_path / "out"), "--predictions", "gold"]
    with pytest.raises(
        CliError, match="none is available: `docker info` failed: Cannot connect to the Docker"
    ):
        grade(*argv, "--backend", "docker")
    assert seen == [["docker", "info"]] and not (tmp_path / "out").exists()


def test_empty_is_refused_with_docker(dataset: Path, tmp_path: Path, calls: list) -> None:
    argv = ["--dataset", str(dataset), "--output", str(tmp_path / "out"), "--predictions", "empty"]
    with pytest.raises(CliError, match="empty needs --backend local: the official harness .* runs no tests"):
        grade(*argv, "--backend", "docker")
    assert calls == []
