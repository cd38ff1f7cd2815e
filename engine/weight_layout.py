"""Weight memory layout and storage dtype for fast single-token matmuls on CPU.

Decoding multiplies one token (or an MTP verify's few) by every weight, so it streams weights from
memory. The native kernel (`linear.py`) reads row-major float32 weights. Without it, MKL's x·Wᵀ
streams a wide projection (out ≥ 2·in: q_proj, the lm_head, a dense gate/up) stored (out, in)
row-major at about half the speed of the same weight stored column-major, i.e. as the transpose of a
contiguous (in, out) tensor (measured: 16384×512, one thread, 10 → 20 GB/s), while narrow weights are
as fast or faster row-major. Names, shapes and values are unchanged (only strides), so checkpoints,
state_dict and parity are unaffected.
"""

from __future__ import annotations

import torch
from torch import nn

from mimo_agent.engine.attention import Attention
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.moe import Experts
from mimo_agent.engine.native import library

WIDE = 2  # out_features / in_features from which column-major wins for MKL
NATIVE_WEIGHT_DTYPES = (torch.float32, torch.bfloat16)  # what the native few-row kernel streams


def check_weight_dtype(dtype: torch.dtype | None) -> None:
    """Matrices are stored float32 or bfloat16 (what the native kernel streams); None: as loaded."""
    if dtype is not None and dtype not in NATIVE_WEIGHT_DTYPES:
        raise EngineError(f"weight_dtype={dtype}: expected torch.float32 or torch.bfloat16")


def matrix_parameters(module: nn.Module) -> dict[str, nn.Parameter]:
    """The matrices a decode step streams, by state_dict name: every linear weight and expert stack,
    except embedding rows and a head tied to them (a token reads one row of those)."""
    shared = {id(m.weight) for m in module.modules() if isinstance(m, nn.Embedding)}
    found: dict[str, nn.Parameter] = {}
    for prefix, owner in module.named_modules():
        if isinstance(owner, nn.Linear):
            names = ["weight"]
        elif isinstance(owner, Experts):
            names = [name for name, _ in owner.named_parameters(recurse=False)]
        else:
            continue
        for name in names:
            weight = getattr(owner, name)
            if isinstance(weight, nn.Parameter) and id(weight) not in shared and weight.is_floating_point():
                found[f"{prefix}.{name}" if prefix else name] = weight
    return found


def store_weights(module: nn.Module, dtype: torch.dtype) -> int:
    """Keep every matrix a decode step streams (`matrix_parameters`) in `dtype`; returns how many
    changed. bfloat16 halves the bytes per token while activations, norms, the router and the KV
    cache keep their dtype: the native kernel widens each weight exactly and multiplies in float32
    (a bfloat16 checkpoint then computes what it would upcast to float32, from half the memory)."""
    check_weight_dtype(dtype)
    changed = 0
    for weight in matrix_parameters(module).values():
        if weight.dtype != dtype:
            with torch.no_grad():
                weight.data = weight.data.to(dtype)
            changed += 1
    return changed


def decode_layout(module: nn.Module) -> int:
    """Re-store every CPU `nn.Linear` weight in the layout its decode matmul streams fastest; returns
    how many changed. Weights shared with an embedding (a tied lm_head) stay row-major: the embedding
    gathers rows. With the native kernel, attention's q/k/v weights are also fused into one."""
    native = library() is not None
    changed = 0
    for weight in matrix_parameters(module).values():
        if weight.dim() != 2 or weight.device.type != "cpu":
            continue  # expert stacks: each expert's matrix is read in place, already row-major
        out_features, in_features = weight.shape
        column_major = out_features >= WIDE * in_features and not (
            native and weight.dtype in NATIVE_WEIGHT_DTYPES
        )
        target = (1, out_features) if column_major else (in_features, 1)
        if weight.stride() != target:
            with torch.no_grad():
                weight.data = weight.data.t().contiguous().t() if column_major else weight.data.contiguous()
            changed += 1
    if native:
        for attention in module.modules():
            if isinstance(attention, Attention):
                attention.fuse_projections()
    return changed
