"""The demo model's held-out evaluation: MTP acceptance on expert turns, the harness run, run statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mimo_agent.evals.tiny_model.evaluate import main, mtp_acceptance
from mimo_agent.evals.tiny_model.run_stats import stats_from_events
from mimo_agent.evals.tiny_model.trajectories import read_trajectories
from tests.network import index_reachable


def _event(kind: str, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "time": 0.0, "payload": payload}


def test_run_statistics_count_calls_speed_and_accepted_length() -> None:
    spec = {"accepted_length_histogram": {"1": 2, "3": 2}}
    events = [
        _event(
            "assistant_message", stats={"generated_tokens": 10, "decode_seconds": 0.5, "speculation": spec}
        ),
        _event("tool_call", repairs=[]),
        _event("assistant_message", stats={"generated_tokens": 30, "decode_seconds": 1.5}),
        _event("tool_call", repairs=["fuzzy_parameter_name"]),
        _event("tool_call_invalid"),
    ]
    summary = stats_from_events(events).summary()
    assert summary["steps"] == 2 and summary["tool_calls"] == 3
    assert summary["valid_call_rate"] == round(2 / 3, 3) and summary["valid_without_repair_rate"] == round(
        1 / 3, 3
    )
    assert summary["decode_tokens_per_second"] == 20.0
    assert summary["mtp_accepted_length"] == 2.0  # (1·2 + 3·2) / 4 verify passes


@pytest.mark.slow
def test_mtp_acceptance_re_decodes_held_out_turns(tiny_build: tuple[Path, Path, dict]) -> None:
    model, work, _ = tiny_build
    rows = read_trajectories(work / "trajectories-validation.jsonl")
    result = mtp_acceptance(model, rows, max_turns=2)
    assert result["turns"] == 2
    assert 1.0 <= result["accepted_length"] <= 4.0
    assert sum(result["accepted_length_histogram"].values()) > 0
    assert result["greedy_identical_turns"] == 2  # speculation never changes greedy output
    assert result["speedup"] > 0 and result["tokens_per_cpu_second"]["plain"] > 0


@pytest.mark.network
@pytest.mark.slow
def test_evaluation_end_to_end(tiny_build: tuple[Path, Path, dict], tmp_path: Path, capsys) -> None:
    if not index_reachable():
        pytest.skip("the package index cannot be reached (each graded venv installs pytest)")
    model, _, _ = tiny_build
    argv = ["--model", str(model), "--out", str(tmp_path / "eval"), "--tasks", "1", "--mtp-trajectories", "1",
            "--mtp-turns", "1", "--max-steps", "2", "--workers", "1"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["harness"]["instances"] == 1 and report["harness"]["steps"] >= 1
    assert report["harness"]["resolved"] in (0, 1)
    assert report["mtp_held_out"]["turns"] == 1
    assert json.loads((tmp_path / "eval" / "report.json").read_text()) == report
