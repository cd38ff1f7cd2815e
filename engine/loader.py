"""Load a MiMo-V2 checkpoint into the engine's canonical (transformers in-memory) tensor names.

Accepts the published hub layout (per-expert tensors, `attention_sink_bias`, FP8 with block scales,
`model.mtp.*`) and transformers' own layout (fused experts, `sinks`), single-file or sharded. Every
expected tensor must be present with its exact shape and nothing else may be left over: a silent skip
would give a model that runs and answers wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint_files import CheckpointFiles
from .errors import ConfigError, EngineError
from .fp8 import Fp8Weight, ScaleRowRule
from .weight_names import keeps_float32
from .weight_plan import WeightPlan, plan_weights

LOAD_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


@dataclass
class LoadedWeights:
    """`tensors`: exactly the expected canonical names, in the load dtype on the device (the router's
    correction bias stays float32); values are `Fp8Weight` for FP8 tensors only when `keep_fp8=True`.
    `mtp`: every `model.mtp.*` tensor under its published name, in the load dtype (FP8 ones likewise
    dequantised unless `keep_fp8=True`)."""

    tensors: dict[str, torch.Tensor | Fp8Weight]
    mtp: dict[str, torch.Tensor | Fp8Weight]


def read_config_dict(checkpoint_dir: Path) -> dict[str, Any]:
    """The raw `config.json` of a checkpoint directory (interpreting its fields is the config's job)."""
    path = Path(checkpoint_dir) / "config.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no config.json (is {checkpoint_dir} a checkpoint directory?)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def fp8_block_size(quantization_config: dict | None) -> tuple[int, int] | None:
    """`quantization_config.weight_block_size` as (rows, cols); None when the checkpoint is not quantised."""
    if quantization_config is None:
        return None
    method = quantization_config.get("quant_method", "fp8")
    if method != "fp8":
        raise ConfigError(
            f"quantization_config.quant_method = {method!r}: only 'fp8' (block-scaled e4m3) is supported"
        )
    block = quantization_config.get("weight_block_size")
    if not (
        isinstance(block, list | tuple)
        and len(block) == 2
        and all(isinstance(b, int) and b > 0 for b in block)
    ):
        raise ConfigError(
            f"quantization_config.weight_block_size = {block!r}: expected two positive integers"
        )
    return int(block[0]), int(block[1])


def load_weights(
    checkpoint_dir: Path,
    expected: Mapping[str, Sequence[int]],
    *,
    quantization_config: dict | None,
    dtype: torch.dtype,
    dtypes: Mapping[str, torch.dtype] | None = None,
    device: str | torch.device = "cpu",
    keep_fp8: bool = False,
    scale_row_rule: ScaleRowRule = "segmented",
) -> LoadedWeights:
    """Check every name and shape from the headers, then read, rename, stack experts and dequantise.

    `expected` maps canonical name → shape; `dtypes` gives some of them another dtype than `dtype`
    (narrower stored matrices). `keep_fp8` leaves FP8 weights quantised (`Fp8Weight`) for
    per-layer dequantisation. `scale_row_rule` only matters for FP8 tensors whose scale grid has an
    unexpected row count (see `fp8.resolve_segment_rows`): "segmented" reads them as per-segment blocks
    (the published GA k_proj), "transformers" as transformers' uniform rows/scale_rows blocks.
    """
    if dtype not in LOAD_DTYPES:
        raise EngineError(f"load dtype {dtype}: expected one of {', '.join(map(str, LOAD_DTYPES))}")
    files = CheckpointFiles(checkpoint_dir)
    plan = plan_weights(files, expected, fp8_block_size(quantization_config), scale_row_rule)
    reader = _Reader(files, plan, torch.device(device))
    tensors: dict[str, torch.Tensor | Fp8Weight] = {}
    for name, shape in expected.items():
        fixed = keeps_float32(name)
        target = torch.float32 if fixed else (dtypes or {}).get(name, dtype)
        if name in plan.experts:
            tensors[name] = reader.fused_experts(name, tuple(shape), target, keep_fp8)
        else:
            tensors[name] = _kept_or_materialised(
                reader.read(plan.direct[name]), target, keep_fp8 and not fixed
            )
    mtp = {name: _kept_or_materialised(reader.read(name), dtype, keep_fp8) for name in plan.mtp}
    return LoadedWeights(tensors, mtp)


def _materialise(value: torch.Tensor | Fp8Weight, dtype: torch.dtype) -> torch.Tensor:
    return value.dequantize(dtype) if isinstance(value, Fp8Weight) else value.to(dtype)


def _kept_or_materialised(
    value: torch.Tensor | Fp8Weight, dtype: torch.dtype, keep_fp8: bool
) -> torch.Tensor | Fp8Weight:
    return value if keep_fp8 and isinstance(value, Fp8Weight) else _materialise(value, dtype)


class _Reader:
    """Reads planned tensors onto the device, pairing FP8 weights with their scale grids."""

    def __init__(self, files: CheckpointFiles, plan: WeightPlan, device: torch.device) -> None:
        self.files, self.plan, self.device = files, plan, device

    def read(self, name: str) -> torch.Tensor | Fp8Weight:
        tensor = self.files.read(name).to(self.device)
        layout = self.plan.fp8.get(name)
        if layout is None:
            return tensor
        scale = self.files.read(layout.scale_name).to(self.device, torch.float32)
        return Fp8Weight(tensor, scale, layout.block, layout.segment_rows)

    def fused_experts(
        self, fused: str, shape: tuple[int, ...], dtype: torch.dtype, keep_fp8: bool
    ) -> torch.Tensor | Fp8Weight:
        """Stack per-expert pieces (planned expert-major, gate before up) into [E, rows, cols]."""
        sources, n_parts = self.plan.experts[fused], self.plan.parts_per_expert[fused]
        layouts = [self.plan.fp8.get(source) for source in sources]
        if keep_fp8 and all(
            lo is not None and lo.segment_rows is None and lo.block == layouts[0].block for lo in layouts
        ):
            return _stack_fp8([self.read(source) for source in sources], shape[0], n_parts)  # type: ignore[misc]
        out = torch.empty(shape, dtype=dtype, device=self.device)  # (E, P·rows, cols), filled piece by piece
        rows = shape[1] // n_parts
        for i, source in enumerate(sources):
            expert, part = divmod(i, n_parts)
            out[expert, part * rows : (part + 1) * rows] = _materialise(self.read(source), dtype)
        return out


def _stack_fp8(values: list[Fp8Weight], n_experts: int, n_parts: int) -> Fp8Weight:
    """Stack FP8 experts without dequantising; gate|up become two row segments of I rows each."""
    # (E·P, r, c) → (E, P, r, c) → (E, P·r, c); the scale grids stack the same way
    weight = torch.stack([v.weight for v in values]).unflatten(0, (n_experts, n_parts)).flatten(1, 2)
    scale = torch.stack([v.scale_inv for v in values]).unflatten(0, (n_experts, n_parts)).flatten(1, 2)
    segment = values[0].weight.shape[0] if n_parts > 1 else None
    return Fp8Weight(weight, scale, values[0].block, segment)
