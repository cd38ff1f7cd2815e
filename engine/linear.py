"""Linear layers for batch-one decoding: a few rows go through the native kernel, the rest through torch.

A decode step multiplies 1 row, an MTP verify k + 1 rows, by every weight; that work is bound by how
fast the weights stream from memory (see native/kernels.c). Training (autograd) and prefill chunks
take torch's path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.native.ops import few_rows_linear


def linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """x (…, K) · weightᵀ (N, K) → (…, N), without bias. A weight stored in another dtype than x
    (see `weight_layout.store_weights`) is computed in x's."""
    out = few_rows_linear(x, weight)
    if out is not None:
        return out
    return F.linear(x, weight if weight.dtype == x.dtype else weight.to(x.dtype))


class Linear(nn.Linear):
    """`nn.Linear` without bias (same parameters and state_dict) that decodes through `linear`."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight)
