"""Int8 copies of the MTP draft machinery: the heads' linear layers and the lm_head they share.

Drafts only propose tokens; the target verifies each one with its own weights, so the output does not
depend on how precisely a draft was computed (greedy stays the target's greedy output, sampling keeps
the target's distribution). A draft step streams one MTP layer and the whole lm_head from memory;
per-row int8 (symmetric, scale = max|row| / 127) is a quarter of float32's bytes (half of bfloat16's)
and moves the argmax of well-separated logits rarely, which costs acceptance, never correctness.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.attention import Attention
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.native.ops import MAX_ROWS, few_rows_linear

# Up to this many kernel passes over an int8 weight (MAX_ROWS rows each) beat dequantising it for one
# torch matmul, which writes and reads a float copy four times its size.
FEW_ROW_PASSES = 8
QUANTISE_ROWS = 4096  # rows quantised at a time: bounds the float temporaries for a large lm_head


class Int8Linear(nn.Module):
    """A bias-free linear layer holding `weight` (N, K) int8 and `scale` (N,) float32 as buffers."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        quantised = torch.empty(weight.shape, dtype=torch.int8, device=weight.device)  # (N, K)
        scale = torch.empty(weight.shape[0], dtype=torch.float32, device=weight.device)  # (N,)
        with torch.no_grad():
            for first in range(0, weight.shape[0], QUANTISE_ROWS):  # float copies of a block at a time
                rows = weight[first : first + QUANTISE_ROWS].float()
                amax = rows.abs().amax(dim=1)
                block = torch.where(amax > 0, amax / 127, torch.ones_like(amax))  # an all-zero row: 1
                quantised[first : first + QUANTISE_ROWS] = torch.round(rows / block[:, None]).clamp_(
                    -127, 127
                )
                scale[first : first + QUANTISE_ROWS] = block
        self.register_buffer("weight", quantised)
        self.register_buffer("scale", scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.shape[-1])  # (T, K)
        if rows.shape[0] <= FEW_ROW_PASSES * MAX_ROWS:  # a draft, or catching up after plain steps
            parts = [few_rows_linear(rows[i : i + MAX_ROWS], self.weight, self.scale)
                     for i in range(0, rows.shape[0], MAX_ROWS)]  # fmt: skip
            if all(part is not None for part in parts):
                return torch.cat(parts).view(*x.shape[:-1], -1)  # type: ignore[arg-type]
        # a catch-up chunk over a prompt, or no native kernel: dequantise for this call
        return F.linear(x, (self.weight.to(x.dtype) * self.scale[:, None].to(x.dtype)))


def int8_linears(module: nn.Module) -> int:
    """Replace every bias-free `nn.Linear` under `module` with its `Int8Linear`; returns how many."""
    targets = [
        (name, child)
        for name, child in module.named_modules()
        if isinstance(child, nn.Linear) and child.bias is None and name
    ]
    for name, linear in targets:
        parent_path, _, leaf = name.rpartition(".")
        setattr(module.get_submodule(parent_path), leaf, Int8Linear(linear.weight))
    for attention in module.modules():
        if isinstance(attention, Attention):
            attention.qkv_weight = None  # q/k/v are Int8Linears now, each run on its own
    return len(targets)


def int8_drafting(heads: MTPHeads, lm_head: nn.Module) -> tuple[MTPHeads, Int8Linear]:
    """Int8 copies of the heads and of the lm_head for drafting (a quarter of their float32 bytes, held
    beside them); the originals are left as they are."""
    # The copy shares the float tensors (norms and sinks stay shared; linear weights are replaced).
    memo: dict[int, object] = {id(t): t for t in (*heads.parameters(), *heads.buffers())}
    memo.update({id(a.qkv_weight): a.qkv_weight for a in heads.modules() if isinstance(a, Attention)})
    draft = copy.deepcopy(heads, memo)
    int8_linears(draft)
    return draft.eval(), Int8Linear(lm_head.weight)
