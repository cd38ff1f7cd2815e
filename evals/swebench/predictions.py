"""Predictions in the official format (`instance_id`, `model_name_or_path`, `model_patch`), or gold / empty."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimo_agent.evals.swebench.dataset import Instance
from mimo_agent.evals.swebench.errors import PredictionsError

GOLD = "gold"
EMPTY = "empty"


@dataclass(frozen=True)
class Prediction:
    """A model's patch for one instance. `skip_patch` marks the `empty` check: run the tests on the base."""

    instance_id: str
    model_name_or_path: str
    model_patch: str | None
    skip_patch: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "model_name_or_path": self.model_name_or_path,
            "model_patch": self.model_patch,
        }

    @property
    def model_dir(self) -> str:
        """The official log folder name for the model (slashes would nest folders)."""
        return self.model_name_or_path.replace("/", "__")


def load_predictions(source: str, instances: list[Instance]) -> dict[str, Prediction]:
    """`gold` (the dataset's patches), `empty` (no patch, tests still run) or a .json/.jsonl predictions file.

    Only predictions for `instances` are kept; a file must name a single model.
    """
    if source == GOLD:
        return {i.instance_id: Prediction(i.instance_id, GOLD, i.patch) for i in instances}
    if source == EMPTY:
        return {i.instance_id: Prediction(i.instance_id, EMPTY, "", skip_patch=True) for i in instances}
    path = Path(source)
    if not path.is_file():
        raise PredictionsError(f"{source}: no such predictions file (or use 'gold' or 'empty')")
    wanted = {instance.instance_id for instance in instances}
    predictions: dict[str, Prediction] = {}
    for where, row in _rows(path):
        prediction = _prediction(row, where)
        if prediction.instance_id in predictions:
            raise PredictionsError(f"{where}: a second prediction for {prediction.instance_id!r}")
        predictions[prediction.instance_id] = prediction
    models = {prediction.model_name_or_path for prediction in predictions.values()}
    if len(models) > 1:
        raise PredictionsError(
            f"{path}: predictions from several models ({', '.join(sorted(models))}); grade one at a time"
        )
    return {key: value for key, value in predictions.items() if key in wanted}


def _rows(path: Path) -> list[tuple[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                rows.append((f"{path}:{number}", _json(line, f"{path}:{number}")))
        return rows
    data = _json(text, str(path))
    if isinstance(data, dict):  # the official harness also accepts {instance_id: prediction}
        data = list(data.values())
    if not isinstance(data, list):
        raise PredictionsError(f"{path}: expected a JSON list of predictions, got {type(data).__name__}")
    return [(f"{path}: item {index}", row) for index, row in enumerate(data)]


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PredictionsError(f"{where}: invalid JSON ({exc})") from exc


def _prediction(row: Any, where: str) -> Prediction:
    if not isinstance(row, dict):
        raise PredictionsError(f"{where}: expected an object, got {type(row).__name__}")
    for key in ("instance_id", "model_name_or_path"):
        if not isinstance(row.get(key), str) or not row[key]:
            raise PredictionsError(f"{where}: field {key!r} must be a non-empty string")
    if "model_patch" not in row:
        raise PredictionsError(f"{where}: field 'model_patch' is missing")
    patch = row["model_patch"]
    if patch is not None and not isinstance(patch, str):
        raise PredictionsError(f"{where}: field 'model_patch' must be a string or null")
    return Prediction(row["instance_id"], row["model_name_or_path"], patch)
