"""Small building blocks shared by the decoder layers: RMSNorm, partial rotary embedding, dense MLP."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.config import AttentionSpec
from mimo_agent.engine.linear import Linear
from mimo_agent.engine.native.ops import rms_norm


class RMSNorm(nn.Module):
    """Normalise in fp32, cast back to the input dtype, *then* scale by the weight (the reference's order)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        native = rms_norm(x, self.weight, self.eps)
        if native is not None:
            return native
        if x.dtype == torch.float32:  # one fused op; the same arithmetic as the three steps below
            return F.rms_norm(x, self.weight.shape, self.weight, self.eps)
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


class Rotary:
    """NeoX-style (rotate-half) RoPE on the first `rotary_dim` dims of each head; the rest pass through.

    Frequencies are recomputed per call on the positions' device (a few dozen values), so a model built
    on the meta device and loaded with `assign=True` needs no buffer fix-up.
    """

    def __init__(self, spec: AttentionSpec) -> None:
        self.theta = spec.rope_theta
        self.dim = spec.rotary_dim

    def cos_sin(self, positions: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos/sin for `positions` (T,), computed in fp32 then cast, as the reference does: each (T, rotary)."""
        exponents = torch.arange(0, self.dim, 2, dtype=torch.float32, device=positions.device) / self.dim
        inv_freq = 1.0 / (self.theta**exponents)  # (rotary/2,)
        freqs = positions.float()[:, None] * inv_freq[None, :]  # (T, rotary/2)
        emb = torch.cat((freqs, freqs), dim=-1)  # (T, rotary)
        return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (heads, T, head_dim); cos/sin: (T, rotary). Pairs (j, j + rotary/2) rotate together."""
    rotary = cos.shape[-1]
    x_rot, x_pass = x[..., :rotary], x[..., rotary:]
    half = rotary // 2
    rotated = torch.cat((-x_rot[..., half:], x_rot[..., :half]), dim=-1)  # (heads, T, rotary): rotate_half
    return torch.cat((x_rot * cos + rotated * sin, x_pass), dim=-1)  # (heads, T, head_dim)


class DenseMLP(nn.Module):
    """SwiGLU feed-forward: down(silu(gate x) * up x)."""

    def __init__(self, hidden: int, intermediate: int) -> None:
        super().__init__()
        self.gate_proj = Linear(hidden, intermediate)
        self.up_proj = Linear(hidden, intermediate)
        self.down_proj = Linear(intermediate, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
