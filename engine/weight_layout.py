"""Weight memory layout for fast single-token matmuls on CPU.

Decoding multiplies one token (or an MTP verify's few) by every weight, so it streams weights from
memory. For a wide projection (out ≥ 2·in: q_proj, the lm_head, a dense gate/up) MKL's x·Wᵀ streams
an (out, in) row-major weight at about half the speed of the same weight stored column-major, i.e. as
the transpose of a contiguous (in, out) tensor (measured: 16384×512, one thread, 10 → 20 GB/s).
Narrow weights are as fast or faster row-major, so they stay. Names, shapes and values are unchanged
(only strides), so checkpoints, state_dict and parity are unaffected.
"""

from __future__ import annotations

import torch
from torch import nn

WIDE = 2  # out_features / in_features from which column-major wins


def column_major_wide_linears(module: nn.Module) -> int:
    """Re-store every wide CPU `nn.Linear` weight column-major; returns how many changed. Weights shared
    with an embedding (a tied lm_head) stay row-major: the embedding gathers rows."""
    shared = {id(m.weight) for m in module.modules() if isinstance(m, nn.Embedding)}
    changed = 0
    for linear in module.modules():
        weight = linear.weight if isinstance(linear, nn.Linear) else None
        if (
            weight is None
            or id(weight) in shared
            or weight.device.type != "cpu"
            or not weight.is_floating_point()
        ):
            continue
        out_features, in_features = weight.shape
        if out_features >= WIDE * in_features and weight.stride() != (1, out_features):
            with torch.no_grad():
                weight.data = weight.data.t().contiguous().t()  # (out, in) with strides (1, out)
            changed += 1
    return changed
