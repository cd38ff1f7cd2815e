"""FP8 weights kept resident and dequantised just before use (`Engine.from_pretrained(keep_fp8=True)`).

A loaded `Fp8Weight` replaces what the model built for it: a bias-free `nn.Linear` is swapped for an
`Fp8Linear`, and a fused expert parameter (`experts.gate_up_proj`, `experts.down_proj`) becomes an
`Fp8Linear` holding the whole [E, rows, cols] stack, of which only the chosen experts are dequantised.
The quantised tensor and its block scales are buffers, so `.to(device)` moves them and `state_dict`
lists them under the checkpoint's own names (`….weight`, `….weight_scale_inv`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.fp8 import Fp8Weight


class Fp8Linear(nn.Module):
    """Holds an FP8 weight (2-D for a Linear, 3-D for an expert stack) and its scale grid."""

    def __init__(self, value: Fp8Weight) -> None:
        super().__init__()
        self.register_buffer("weight", value.weight)
        self.register_buffer("weight_scale_inv", value.scale_inv)
        self.block, self.segment_rows = value.block, value.segment_rows

    @property
    def quantised(self) -> Fp8Weight:
        return Fp8Weight(self.weight, self.weight_scale_inv, self.block, self.segment_rows)

    def weight_for(self, dtype: torch.dtype) -> torch.Tensor:
        """The whole weight, dequantised (a fresh tensor each call: the FP8 copy is the resident one)."""
        return self.quantised.dequantize(dtype)

    def expert_for(self, expert: int, dtype: torch.dtype) -> torch.Tensor:
        """One expert's weight (rows, cols) of a stack, dequantising nothing else."""
        return Fp8Weight(
            self.weight[expert], self.weight_scale_inv[expert], self.block, self.segment_rows
        ).dequantize(dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight_for(x.dtype))


def assign_weights(
    module: nn.Module,
    tensors: Mapping[str, torch.Tensor | Fp8Weight],
    absent: frozenset[str] = frozenset(),
) -> None:
    """`module.load_state_dict(tensors, strict=True, assign=True)`, except that `Fp8Weight` values are
    installed as `Fp8Linear`s. `absent`: names the caller re-ties itself (a tied lm_head).

    The names were checked against the module by the loader, so a mismatch here is an internal error.
    """
    installed: set[str] = set()
    for name, value in tensors.items():
        if isinstance(value, Fp8Weight):
            installed |= _install(module, name, value)
    dense = {name: value for name, value in tensors.items() if not isinstance(value, Fp8Weight)}
    missing, unexpected = module.load_state_dict(dense, strict=False, assign=True)
    assert not unexpected and set(missing) <= installed | absent, (unexpected, missing)


def _install(module: nn.Module, name: str, value: Fp8Weight) -> set[str]:
    """Put `value` where parameter `name` was; return the state_dict names it now has."""
    owner_path, _, leaf = name.rpartition(".")
    owner = module.get_submodule(owner_path)
    replaced = getattr(owner, leaf)
    assert isinstance(replaced, nn.Parameter) and replaced.shape == value.shape, name
    if isinstance(owner, nn.Linear) and leaf == "weight" and owner.bias is None:
        parent_path, _, child = owner_path.rpartition(".")
        owner, leaf, prefix = module.get_submodule(parent_path), child, owner_path
    else:  # a fused expert stack: the parameter itself becomes the holder
        assert value.weight.dim() == 3, name
        prefix = name
    delattr(owner, leaf)  # a module cannot be assigned over a parameter of the same name
    setattr(owner, leaf, Fp8Linear(value))
    return {f"{prefix}.weight", f"{prefix}.weight_scale_inv"}
