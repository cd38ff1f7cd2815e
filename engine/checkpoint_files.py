"""The safetensors files of a checkpoint directory, opened memory-mapped, with every failure named.

With `model.safetensors.index.json` the index is authoritative: the shards it names are read, and each
tensor it lists must be in the shard it says. Other `*.safetensors` files are ignored, except a sidecar
holding only `model.mtp.*` tensors (MTP weights may ship as `model_mtp.safetensors` outside the index).
Without an index, every `*.safetensors` file is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from .errors import CheckpointError
from .weight_names import is_mtp

INDEX_FILE = "model.safetensors.index.json"


class CheckpointFiles:
    """Name → file lookup over all shards; tensors are read one at a time from the memory map."""

    def __init__(self, checkpoint_dir: Path) -> None:
        self.directory = Path(checkpoint_dir)
        if not self.directory.is_dir():
            raise CheckpointError(
                f"checkpoint directory {self.directory} does not exist or is not a directory"
            )
        self._handles: dict[Path, Any] = {}
        self._file_of: dict[str, Path] = {}
        index_path = self.directory / INDEX_FILE
        if index_path.is_file():
            self._open_indexed(index_path)
        else:
            files = sorted(self.directory.glob("*.safetensors"))
            if not files:
                raise CheckpointError(f"no *.safetensors file and no {INDEX_FILE} in {self.directory}")
            for path in files:
                self._open(path)

    def _open_indexed(self, index_path: Path) -> None:
        try:
            weight_map = json.loads(index_path.read_text())["weight_map"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CheckpointError(
                f"{index_path}: unreadable index, expected JSON with a 'weight_map' ({exc})"
            ) from exc
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(
                f"{index_path}: 'weight_map' must be a non-empty object of tensor name → shard"
            )
        for name, shard in weight_map.items():
            path = self.directory / str(shard)
            if not path.is_file():
                raise CheckpointError(
                    f"shard {path} (holding tensor {name!r}, per {index_path.name}) is missing"
                )
        for path in sorted({self.directory / str(shard) for shard in weight_map.values()}):
            self._open(path)
        for name, shard in weight_map.items():
            if self._file_of.get(name) != self.directory / str(shard):
                raise CheckpointError(
                    f"tensor {name!r}: {index_path.name} places it in {shard}, which lacks it"
                )
        for path in sorted(self.directory.glob("*.safetensors")):
            if path not in self._handles:
                handle, names = _safe_open(path)
                if names and all(is_mtp(name) for name in names):
                    self._register(path, handle, names)

    def _open(self, path: Path) -> None:
        self._register(path, *_safe_open(path))

    def _register(self, path: Path, handle: Any, names: list[str]) -> None:
        self._handles[path] = handle
        for name in names:
            if name in self._file_of:
                raise CheckpointError(f"tensor {name!r} appears in both {self._file_of[name]} and {path}")
            self._file_of[name] = path

    def names(self) -> list[str]:
        return list(self._file_of)

    def __contains__(self, name: str) -> bool:
        return name in self._file_of

    def file_of(self, name: str) -> Path:
        return self._file_of[name]

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._handles[self._file_of[name]].get_slice(name).get_shape())

    def dtype_name(self, name: str) -> str:
        """The safetensors dtype string ("BF16", "F32", "F8_E4M3", …), read from the header only."""
        return self._handles[self._file_of[name]].get_slice(name).get_dtype()

    def read(self, name: str) -> torch.Tensor:
        path = self._file_of[name]
        try:
            return self._handles[path].get_tensor(name)
        except (SafetensorError, OSError, RuntimeError) as exc:
            raise CheckpointError(f"tensor {name!r} in {path}: cannot be read ({exc})") from exc

    def describe(self) -> str:
        """The files, for error messages about tensors that are nowhere."""
        if len(self._handles) == 1:
            return str(next(iter(self._handles)))
        return f"{len(self._handles)} files in {self.directory}: {', '.join(p.name for p in self._handles)}"


def _safe_open(path: Path) -> tuple[Any, list[str]]:
    """A memory-mapped handle and its tensor names; the header is checked against the file size here."""
    try:
        handle = safe_open(str(path), framework="pt", device="cpu")
        return handle, list(handle.keys())
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(
            f"{path}: not a readable safetensors file (truncated or corrupt?): {exc}"
        ) from exc
