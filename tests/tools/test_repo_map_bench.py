"""The repo map benchmark script runs and reports its fields (its timings are goals, not test assertions)."""

from __future__ import annotations

import json

from mimo_agent.evals import bench_repo_map


def test_benchmark_runs_on_a_small_repository(capsys) -> None:
    assert bench_repo_map.main(["--files", "40", "--repeats", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 40 and report["one_edit_parsed"] == 1
    assert report["definitions_shown"] > 0
    for key in ("cold_s", "warm_s", "warm_disk_s", "one_edit_s"):
        assert report[key] > 0
