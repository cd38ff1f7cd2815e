"""SWE-bench instances from JSON, JSONL, parquet or a Hugging Face dataset, and the run's selection of them."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_agent.evals.swebench.errors import DatasetError

REQUIRED_FIELDS = (
    "instance_id",
    "repo",
    "base_commit",
    "patch",
    "test_patch",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
)
TEXT_FIELDS = ("problem_statement", "hints_text", "created_at", "version", "environment_setup_commit")
HUB_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class Instance:
    """One task: the dataset's 12 fields, with the two test lists decoded; other columns kept in `extra`."""

    instance_id: str
    repo: str
    base_commit: str
    patch: str
    test_patch: str
    FAIL_TO_PASS: tuple[str, ...]
    PASS_TO_PASS: tuple[str, ...]
    problem_statement: str = ""
    hints_text: str = ""
    created_at: str = ""
    version: str = ""
    environment_setup_commit: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_row(cls, row: dict[str, Any], where: str) -> Instance:
        """Build from a dataset row; `where` names the file and row for error messages."""
        if not isinstance(row, dict):
            raise DatasetError(
                f"{where}: expected an object with the SWE-bench fields, got {type(row).__name__}"
            )
        missing = [key for key in REQUIRED_FIELDS if key not in row]
        if missing:
            raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}")
        values: dict[str, Any] = {}
        for key in REQUIRED_FIELDS[:5] + TEXT_FIELDS:
            value = row.get(key, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise DatasetError(f"{where}: field {key!r} must be a string, got {type(value).__name__}")
            values[key] = value
        for key in ("FAIL_TO_PASS", "PASS_TO_PASS"):
            values[key] = _test_list(row[key], f"{where}: field {key!r}")
        if not values["instance_id"]:
            raise DatasetError(f"{where}: field 'instance_id' is empty")
        known = set(REQUIRED_FIELDS) | set(TEXT_FIELDS)
        return cls(**values, extra={k: v for k, v in row.items() if k not in known})

    def to_row(self) -> dict[str, Any]:
        """The dataset row again, test lists JSON-encoded as in the published datasets."""
        row = {key: getattr(self, key) for key in REQUIRED_FIELDS[:5] + TEXT_FIELDS}
        row["FAIL_TO_PASS"] = json.dumps(list(self.FAIL_TO_PASS))
        row["PASS_TO_PASS"] = json.dumps(list(self.PASS_TO_PASS))
        return {**self.extra, **row}


def _test_list(value: Any, where: str) -> tuple[str, ...]:
    """FAIL_TO_PASS / PASS_TO_PASS come JSON-encoded in the datasets and as lists once loaded elsewhere."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not a JSON list of test names ({exc})") from exc
    if hasattr(value, "tolist"):  # a numpy array from a parquet reader
        value = value.tolist()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DatasetError(f"{where}: expected a list of test names")
    return tuple(value)


def load_instances(source: str | Path, split: str = "test") -> list[Instance]:
    """Read a `.json` (list), `.jsonl` or `.parquet` file, or else a Hugging Face dataset name."""
    path = Path(source)
    suffix = path.suffix.lower()
    if path.is_file():
        if suffix == ".jsonl":
            rows = _read_jsonl(path)
        elif suffix == ".json":
            rows = _read_json(path)
        elif suffix == ".parquet":
            rows = _read_parquet(path)
        else:
            raise DatasetError(
                f"{path}: unknown dataset format {suffix!r} (expected .json, .jsonl or .parquet)"
            )
        return _instances(rows, str(path))
    if suffix in (".json", ".jsonl", ".parquet") or path.exists():
        raise DatasetError(f"{source}: no such dataset file")
    return _instances(_read_hub(str(source), split), f"{source}[{split}]")


def _instances(rows: list[Any], where: str) -> list[Instance]:
    instances: list[Instance] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        label = row.get("instance_id") if isinstance(row, dict) else None
        instance = Instance.from_row(row, f"{where}: row {index}" + (f" ({label})" if label else ""))
        if instance.instance_id in seen:
            raise DatasetError(f"{where}: instance {instance.instance_id!r} appears twice")
        seen.add(instance.instance_id)
        instances.append(instance)
    return instances


def _read_jsonl(path: Path) -> list[Any]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: invalid JSON ({exc})") from exc
    return rows


def _read_json(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: invalid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of instances, got {type(data).__name__}")
    return data


def _read_parquet(path: Path) -> list[Any]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DatasetError(
            f"{path}: reading parquet needs the 'pyarrow' package, which is not installed"
        ) from exc
    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DatasetError(f"{path}: not a readable parquet file ({exc})") from exc


def _looks_like_hub_name(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(part and not part.startswith(".") for part in parts)


def _read_hub(name: str, split: str) -> list[Any]:
    """A Hub dataset, only where the `datasets` package is installed and the Hub answers."""
    if not _looks_like_hub_name(name):
        raise DatasetError(f"{name}: no such dataset file, and not a Hugging Face dataset name (OWNER/NAME)")
    try:
        import datasets
    except ImportError as exc:
        raise DatasetError(
            f"{name}: loading a Hugging Face dataset needs the 'datasets' package, which is not installed; "
            "pass a .json, .jsonl or .parquet file instead"
        ) from exc
    endpoint = os.environ.get("HF_ENDPOINT", HUB_ENDPOINT)
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or not _reachable(endpoint):
        raise DatasetError(
            f"{name}: the Hugging Face Hub ({endpoint}) cannot be reached from here; "
            "pass a .json, .jsonl or .parquet file instead"
        )
    try:
        return list(datasets.load_dataset(name, split=split))
    except Exception as exc:  # the hub client raises many types (network, auth, missing split)
        raise DatasetError(f"{name}[{split}]: could not load from the Hugging Face Hub ({exc})") from exc


def _reachable(url: str) -> bool:
    import httpx

    try:
        httpx.head(url, timeout=5.0)
    except httpx.HTTPError:
        return False
    return True


def parse_slice(text: str) -> slice:
    """Python slice syntax without brackets: `0:10`, `:5`, `10:`, `::2`."""
    parts = text.split(":")
    if not 2 <= len(parts) <= 3:
        raise DatasetError(f"--slice {text!r}: expected START:STOP[:STEP], e.g. 0:10")
    try:
        bounds = [int(part) if part.strip() else None for part in parts]
    except ValueError as exc:
        raise DatasetError(f"--slice {text!r}: bounds must be integers") from exc
    if len(bounds) == 3 and bounds[2] == 0:
        raise DatasetError(f"--slice {text!r}: step cannot be zero")
    return slice(*bounds)


def select_instances(
    instances: list[Instance],
    ids: list[str] | None = None,
    slice_text: str | None = None,
    shuffle: bool = False,
    seed: int = 0,
) -> list[Instance]:
    """Filter by id (unknown ids are an error), then shuffle with the seed, then slice."""
    selected = list(instances)
    if ids:
        by_id = {instance.instance_id: instance for instance in instances}
        unknown = [instance_id for instance_id in ids if instance_id not in by_id]
        if unknown:
            raise DatasetError(f"--instances: not in the dataset: {', '.join(unknown)}")
        wanted = set(ids)
        selected = [instance for instance in selected if instance.instance_id in wanted]
    if shuffle:
        random.Random(seed).shuffle(selected)
    if slice_text:
        selected = selected[parse_slice(slice_text)]
    return selected
