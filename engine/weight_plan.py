"""Check a checkpoint against the expected tensors from its headers alone, before a byte of data is read.

The plan says where each canonical tensor comes from (one on-disk tensor, or per-expert pieces to stack),
which tensors are FP8 and how their scale grids lie. Every missing, unexpected or mis-shaped tensor is
found here, so a broken 300 GB checkpoint fails in seconds rather than after an hour of reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .checkpoint_files import CheckpointFiles
from .errors import CheckpointError
from .fp8 import ScaleRowRule, resolve_segment_rows
from .weight_names import ExpertPiece, canonical_name, expert_piece, is_mtp, scale_owner

FP8_HEADER_DTYPE = "F8_E4M3"


@dataclass(frozen=True, slots=True)
class Fp8Layout:
    scale_name: str
    block: tuple[int, int]
    segment_rows: int | None


@dataclass
class WeightPlan:
    direct: dict[str, str] = field(default_factory=dict)  # canonical name → on-disk name
    experts: dict[str, list[str]] = field(default_factory=dict)  # fused name → pieces, expert-major
    parts_per_expert: dict[str, int] = field(default_factory=dict)  # fused name → 2 (gate|up) or 1 (down)
    mtp: list[str] = field(default_factory=list)
    fp8: dict[str, Fp8Layout] = field(default_factory=dict)  # on-disk name → its scale grid


def plan_weights(
    files: CheckpointFiles,
    expected: Mapping[str, Sequence[int]],
    block: tuple[int, int] | None,
    rule: ScaleRowRule,
) -> WeightPlan:
    plan, scales, pieces = _classify(files)
    for name in expected:
        if name not in plan.direct and name not in pieces:
            raise CheckpointError(
                f"tensor {name!r} (shape {list(expected[name])}) is missing from the checkpoint ({files.describe()})"
            )
    for name, source in plan.direct.items():
        if name not in expected:
            raise CheckpointError(f"unexpected tensor {source!r} in {files.file_of(source)}")
        if name in pieces:
            raise CheckpointError(f"{name!r} is stored both fused ({files.file_of(source)}) and per expert")
        _check_shape(files, source, expected[name])
    for fused, group in pieces.items():
        if fused not in expected:
            raise CheckpointError(f"unexpected tensor {group[0][1]!r} in {files.file_of(group[0][1])}")
        plan.experts[fused], plan.parts_per_expert[fused] = _order_experts(
            files, fused, expected[fused], group
        )
    plan.fp8 = {weight: _fp8_layout(files, weight, scale, block, rule) for weight, scale in scales.items()}
    for name in files.names():
        header_dtype = files.dtype_name(name)
        if header_dtype == FP8_HEADER_DTYPE and name not in plan.fp8:
            raise CheckpointError(
                f"FP8 tensor {name!r} in {files.file_of(name)} has no {name + '_scale_inv'!r}"
            )
        if header_dtype.startswith("F8_") and header_dtype != FP8_HEADER_DTYPE:
            raise CheckpointError(
                f"tensor {name!r} in {files.file_of(name)} is {header_dtype}: "
                "only F8_E4M3 (float8_e4m3fn) is supported for quantised weights"
            )
    return plan


def _classify(
    files: CheckpointFiles,
) -> tuple[WeightPlan, dict[str, str], dict[str, list[tuple[ExpertPiece, str]]]]:
    """On-disk names → a plan holding direct and MTP tensors, plus scale grids and per-expert pieces."""
    plan = WeightPlan()
    scales: dict[str, str] = {}  # weight name → its scale grid's name
    pieces: dict[str, list[tuple[ExpertPiece, str]]] = {}  # fused canonical name → per-expert pieces
    for name in files.names():
        owner = scale_owner(name)
        if owner is not None:
            scales[owner] = name
        elif is_mtp(name):
            plan.mtp.append(name)
        elif (piece := expert_piece(name)) is not None:
            pieces.setdefault(piece.fused_name, []).append((piece, name))
        else:
            canonical = canonical_name(name)
            if canonical in plan.direct:
                raise CheckpointError(
                    f"tensors {plan.direct[canonical]!r} and {name!r} ({files.file_of(name)}) both give {canonical!r}"
                )
            plan.direct[canonical] = name
    return plan, scales, pieces


def _check_shape(files: CheckpointFiles, source: str, want: Sequence[int]) -> None:
    got = files.shape(source)
    if got != tuple(want):
        raise CheckpointError(
            f"tensor {source!r} in {files.file_of(source)} has shape {list(got)}, expected {list(want)}"
        )


def _order_experts(
    files: CheckpointFiles, fused: str, shape: Sequence[int], group: list[tuple[ExpertPiece, str]]
) -> tuple[list[str], int]:
    """Per-expert sources in stacking order: gate_up [E, 2I, H] = (gate, up) per expert; down [E, H, I]."""
    parts = ("gate_proj", "up_proj") if fused.endswith("gate_up_proj") else ("down_proj",)
    if len(shape) != 3 or shape[1] % len(parts):
        raise CheckpointError(f"expected shape {list(shape)} for {fused!r} is not [experts, rows, cols]")
    n_experts, piece_shape = shape[0], (shape[1] // len(parts), shape[2])  # (I, H) gate/up, (H, I) down
    by_slot = {(piece.expert, piece.part): source for piece, source in group}
    for (expert, _), source in by_slot.items():
        if expert >= n_experts:
            raise CheckpointError(
                f"unexpected tensor {source!r} in {files.file_of(source)}: only {n_experts} experts expected"
            )
        _check_shape(files, source, piece_shape)
    prefix = fused.rsplit(".", 1)[0]
    ordered = []
    for expert in range(n_experts):
        for part in parts:
            if (expert, part) not in by_slot:
                raise CheckpointError(
                    f"tensor {f'{prefix}.{expert}.{part}.weight'!r} is missing "
                    f"(other experts are in {files.file_of(group[0][1])})"
                )
            ordered.append(by_slot[expert, part])
    return ordered, len(parts)


def _fp8_layout(
    files: CheckpointFiles, weight: str, scale: str, block: tuple[int, int] | None, rule: ScaleRowRule
) -> Fp8Layout:
    if weight not in files:
        raise CheckpointError(
            f"unexpected tensor {scale!r} in {files.file_of(scale)}: there is no {weight!r}"
        )
    if files.dtype_name(weight) != FP8_HEADER_DTYPE:
        raise CheckpointError(
            f"unexpected tensor {scale!r} in {files.file_of(scale)}: block scales for {weight!r}, "
            f"which is {files.dtype_name(weight)}, not F8_E4M3"
        )
    where = f"FP8 tensor {weight!r} in {files.file_of(weight)}"
    if block is None:
        raise CheckpointError(f"{where}: config.json has no quantization_config.weight_block_size")
    shape, grid = files.shape(weight), files.shape(scale)
    fit = None
    if len(shape) >= 2 and len(grid) == len(shape) and grid[:-2] == shape[:-2]:
        fit = resolve_segment_rows(shape[-2], shape[-1], grid[-2:], block, rule)
    if fit is None:
        raise CheckpointError(
            f"{where} {list(shape)}: scale grid {scale!r} is {list(grid)}, which matches neither "
            f"[ceil(rows/{block[0]}), ceil(cols/{block[1]})] nor, with scale_row_rule={rule!r}, rows cut "
            f"into equal segments each quantised in {block[0]}-row blocks"
        )
    return Fp8Layout(scale, *fit)
