"""The four real SWE-bench Lite instances of `shared/swebench/`, graded locally: gold 4/4, empty 0/4.

Needs PyPI (sdists and pinned packages) and a few minutes; skipped only when the index cannot be reached.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evals.test_swebench_grade import grade
from tests.network import index_reachable

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "swebench"
IDS = [
    "marshmallow-code__marshmallow-1343",
    "marshmallow-code__marshmallow-1359",
    "pallets__flask-4045",
    "pydicom__pydicom-1256",
]


@pytest.mark.network
@pytest.mark.slow
def test_real_instances_gold_resolve_and_empty_do_not(tmp_path: Path) -> None:
    if not index_reachable():
        pytest.skip("the package index cannot be reached")
    common = [
        "--dataset",
        str(SHARED / "offline_instances.jsonl"),
        "--specs",
        str(SHARED / "offline_specs.json"),
    ]
    common += ["--output", str(tmp_path), "--workers", "2", "--timeout", "600"]
    assert grade(*common, "--predictions", "gold") == 0
    gold = json.loads((tmp_path / "gold.gold.json").read_text())
    assert gold["resolved_ids"] == IDS, gold["failure_reasons"]
    assert grade(*common, "--predictions", "empty") == 0  # reuses the environments built for gold
    empty = json.loads((tmp_path / "empty.empty.json").read_text())
    assert empty["resolved_ids"] == [] and empty["unresolved_ids"] == IDS and empty["error_ids"] == []
