"""Instance files (JSON, JSONL, parquet), selection, and predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mimo_agent.evals.swebench.dataset import Instance, load_instances, select_instances
from mimo_agent.evals.swebench.errors import DatasetError, PredictionsError
from mimo_agent.evals.swebench.predictions import load_predictions

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "swebench" / "offline_instances.jsonl"


def row(instance_id: str, **overrides) -> dict:
    base = {
        "repo": "demo/calc",
        "instance_id": instance_id,
        "base_commit": "abc",
        "patch": "diff --git a/x b/x\n",
        "test_patch": "diff --git a/t b/t\n",
        "problem_statement": "broken",
        "hints_text": "",
        "created_at": "2026-01-01",
        "version": "1.0",
        "FAIL_TO_PASS": json.dumps(["t::a"]),
        "PASS_TO_PASS": json.dumps(["t::b", "t::c"]),
        "environment_setup_commit": "abc",
    }
    return {**base, **overrides}


ROWS = [row(f"demo__calc-{n}") for n in range(5)]


def test_the_three_formats_load_the_same_instances(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "d.json").write_text(json.dumps(ROWS))
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "d.parquet")
    loaded = [load_instances(tmp_path / name) for name in ("d.jsonl", "d.json", "d.parquet")]
    assert loaded[0] == loaded[1] == loaded[2]
    first = loaded[0][0]
    assert first.FAIL_TO_PASS == ("t::a",) and first.PASS_TO_PASS == ("t::b", "t::c")
    assert [i.instance_id for i in loaded[2]] == [r["instance_id"] for r in ROWS]


def test_test_lists_may_be_real_lists_and_extra_columns_are_kept(tmp_path: Path) -> None:
    rows = [row("demo__calc-1", FAIL_TO_PASS=["t::a"], PASS_TO_PASS=[], difficulty="<15 min fix")]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    (instance,) = load_instances(tmp_path / "d.parquet")
    assert instance.FAIL_TO_PASS == ("t::a",) and instance.PASS_TO_PASS == ()
    assert instance.extra == {"difficulty": "<15 min fix"}
    assert Instance.from_row(instance.to_row(), "again") == instance


def test_the_shared_real_instances_load() -> None:
    instances = load_instances(SHARED)
    assert len(instances) == 4
    flask = next(i for i in instances if i.instance_id == "pallets__flask-4045")
    assert "tests/test_blueprints.py::test_dotted_name_not_allowed" in flask.FAIL_TO_PASS


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            json.dumps({k: v for k, v in row("x").items() if k != "test_patch"}),
            "row 0 \\(x\\): missing field\\(s\\) test_patch",
        ),
        (json.dumps(row("x", FAIL_TO_PASS="not json")), "field 'FAIL_TO_PASS': not a JSON list"),
        (json.dumps(row("x", PASS_TO_PASS="[1, 2]")), "field 'PASS_TO_PASS': expected a list of test names"),
        (json.dumps(row("x", patch=3)), "field 'patch' must be a string"),
        (json.dumps(row("x")) + "\n" + json.dumps(row("x")), "instance 'x' appears twice"),
        ("{not json", "d.jsonl:1: invalid JSON"),
    ],
)
def test_bad_instances_name_the_row_and_field(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "d.jsonl").write_text(content + "\n")
    with pytest.raises(DatasetError, match=message):
        load_instances(tmp_path / "d.jsonl")


def test_missing_files_and_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_instances(tmp_path / "missing.jsonl")
    (tmp_path / "d.csv").write_text("a,b\n")
    with pytest.raises(DatasetError, match="unknown dataset format '.csv'"):
        load_instances(tmp_path / "d.csv")
    with pytest.raises(DatasetError, match="not a Hugging Face dataset name"):
        load_instances("no-such-thing")


def test_a_hub_name_needs_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there: refused at once
    with pytest.raises(DatasetError, match=r"Hub \(http://127.0.0.1:9\) cannot be reached"):
        load_instances("SWE-bench/SWE-bench_Lite")


def test_selection_filters_shuffles_then_slices() -> None:
    instances = [Instance.from_row(r, "t") for r in ROWS]
    ids = lambda selected: [i.instance_id[-1] for i in selected]  # noqa: E731
    assert ids(select_instances(instances, slice_text="1:3")) == ["1", "2"]
    assert ids(select_instances(instances, slice_text="::2")) == ["0", "2", "4"]
    assert ids(select_instances(instances, ids=["demo__calc-4", "demo__calc-1"])) == ["1", "4"]
    shuffled = ids(select_instances(instances, shuffle=True, seed=3))
    assert sorted(shuffled) == ["0", "1", "2", "3", "4"] and shuffled != ["0", "1", "2", "3", "4"]
    assert shuffled == ids(select_instances(instances, shuffle=True, seed=3))
    assert ids(select_instances(instances, shuffle=True, seed=3, slice_text=":2")) == shuffled[:2]
    with pytest.raises(DatasetError, match="not in the dataset: demo__calc-9"):
        select_instances(instances, ids=["demo__calc-9"])
    for bad in ("3", "a:b", "::0"):
        with pytest.raises(DatasetError, match="--slice"):
            select_instances(instances, slice_text=bad)


def test_predictions_gold_empty_and_files(tmp_path: Path) -> None:
    instances = [Instance.from_row(r, "t") for r in ROWS[:2]]
    gold = load_predictions("gold", instances)
    assert (
        gold["demo__calc-0"].model_patch == ROWS[0]["patch"]
        and gold["demo__calc-0"].model_name_or_path == "gold"
    )
    empty = load_predictions("empty", instances)
    assert empty["demo__calc-1"].skip_patch and empty["demo__calc-1"].model_patch == ""
    preds = [
        {"instance_id": "demo__calc-0", "model_name_or_path": "org/m", "model_patch": "p"},
        {"instance_id": "other", "model_name_or_path": "org/m", "model_patch": None},
    ]
    (tmp_path / "p.json").write_text(json.dumps(preds))
    loaded = load_predictions(str(tmp_path / "p.json"), instances)
    assert list(loaded) == ["demo__calc-0"] and loaded["demo__calc-0"].model_dir == "org__m"
    (tmp_path / "p.jsonl").write_text(
        json.dumps({**preds[0], "model_name_or_path": "x"}) + "\n" + json.dumps(preds[1]) + "\n"
    )
    with pytest.raises(PredictionsError, match="several models"):
        load_predictions(str(tmp_path / "p.jsonl"), instances)
    (tmp_path / "p.jsonl").write_text(
        json.dumps({"instance_id": "demo__calc-0", "model_name_or_path": "m"}) + "\n"
    )
    with pytest.raises(PredictionsError, match=r"p.jsonl:1: field 'model_patch' is missing"):
        load_predictions(str(tmp_path / "p.jsonl"), instances)
    with pytest.raises(PredictionsError, match="no such predictions file"):
        load_predictions(str(tmp_path / "none.jsonl"), instances)
