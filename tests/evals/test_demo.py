"""`make demo`'s job end to end: a held-out task, `fix-issue` with the committed trained model, graded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_agent.evals.demo import DEFAULT_MODEL, main
from tests.network import index_reachable

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.network
@pytest.mark.slow
def test_demo_runs_the_trained_model_and_grades_its_patch(tmp_path: Path, capsys) -> None:
    if not index_reachable():
        pytest.skip("the package index cannot be reached (the graded venv installs pytest)")
    model = REPO_ROOT / DEFAULT_MODEL
    assert (model / "model.safetensors").is_file(), "the trained checkpoint is committed (make tiny-model)"
    assert main(["--model", str(model), "--out", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] >= 1 and summary["tool_calls"] >= 1
    assert summary["decode_tokens_per_second"] > 0 and summary["mtp_accepted_length"] >= 1.0
    assert isinstance(summary["resolved"], bool)
    assert (tmp_path / "trajectory.json").is_file() and (tmp_path / "grading").is_dir()


def test_a_missing_checkpoint_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(tmp_path / "nothing")])
    assert exit_info.value.code == 2
    assert "make tiny-model" in capsys.readouterr().err
