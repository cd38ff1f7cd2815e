"""How checkpoint tensor names map onto the engine's canonical (transformers in-memory) names.

Names are compared segment by segment (split on "."), never by substring: a substring rule once made a
loader fuse `gate_up_proj` twice. Two on-disk spellings exist: the published hub layout (one tensor per
expert, `attention_sink_bias`) and transformers' in-memory layout (fused experts, `sinks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SCALE_SUFFIX = "_scale_inv"
ExpertPart = Literal["gate_proj", "up_proj", "down_proj"]
EXPERT_PARTS: tuple[ExpertPart, ...] = ("gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True, slots=True)
class ExpertPiece:
    """One published per-expert tensor and where it goes in the fused canonical tensor."""

    fused_name: str  # model.layers.L.mlp.experts.gate_up_proj or ….down_proj
    expert: int
    part: ExpertPart


def segments(name: str) -> list[str]:
    return name.split(".")


def is_mtp(name: str) -> bool:
    """`model.mtp.*`: the multi-token-prediction layers, which the main model does not use."""
    return segments(name)[:2] == ["model", "mtp"]


def scale_owner(name: str) -> str | None:
    """`X.weight_scale_inv` → `X.weight` (the FP8 tensor this block-scale grid belongs to), else None."""
    last = segments(name)[-1]
    if last.endswith(SCALE_SUFFIX) and len(last) > len(SCALE_SUFFIX):
        return name[: -len(SCALE_SUFFIX)]
    return None


def _is_layer_prefix(parts: list[str]) -> bool:
    return len(parts) >= 3 and parts[0] == "model" and parts[1] == "layers" and parts[2].isdigit()


def expert_piece(name: str) -> ExpertPiece | None:
    """`model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight` → its slot in the fused tensor, else None."""
    parts = segments(name)
    if not (_is_layer_prefix(parts) and len(parts) == 8 and parts[3:5] == ["mlp", "experts"]):
        return None
    expert, part, leaf = parts[5], parts[6], parts[7]
    if not expert.isdigit() or part not in EXPERT_PARTS or leaf != "weight":
        return None
    fused = "down_proj" if part == "down_proj" else "gate_up_proj"
    return ExpertPiece(".".join([*parts[:5], fused]), int(expert), part)  # type: ignore[arg-type]


def canonical_name(name: str) -> str:
    """The in-memory name of a non-expert tensor: only the published sink spelling differs."""
    parts = segments(name)
    if _is_layer_prefix(parts) and len(parts) == 5 and parts[3:] == ["self_attn", "attention_sink_bias"]:
        return ".".join([*parts[:4], "sinks"])
    return name


def keeps_float32(name: str) -> bool:
    """The router's correction bias stays fp32 whatever the load dtype (it only steers expert selection)."""
    parts = segments(name)
    return _is_layer_prefix(parts) and parts[3:] == ["mlp", "gate", "e_score_correction_bias"]
