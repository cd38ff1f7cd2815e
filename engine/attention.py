"""One attention class for both layer types; the layer's `AttentionSpec` decides window, heads and sinks.

Legend: H query heads, KV key/value heads, T new tokens, S keys visible to them, Dk q/k head dim,
Dv value head dim. Scores are only ever (H, T, S) for one chunk of T new tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.config import AttentionSpec
from mimo_agent.engine.kv_cache import GlobalKV, RingKV
from mimo_agent.engine.layers import apply_rotary


class Attention(nn.Module):
    def __init__(self, spec: AttentionSpec, hidden: int, value_scale: float) -> None:
        super().__init__()
        self.spec = spec
        self.value_scale = value_scale
        self.q_proj = nn.Linear(hidden, spec.num_heads * spec.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, spec.num_kv_heads * spec.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, spec.num_kv_heads * spec.v_head_dim, bias=False)
        self.o_proj = nn.Linear(spec.num_heads * spec.v_head_dim, hidden, bias=False)
        self.sinks = nn.Parameter(torch.zeros(spec.num_heads)) if spec.sink else None

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
        start: int,
        cache: GlobalKV | RingKV,
    ) -> torch.Tensor:
        """x: (T, D) for positions start.. (the cache's length) → (T, D)."""
        spec, tokens = self.spec, x.shape[0]
        q = self.q_proj(x).view(tokens, spec.num_heads, spec.head_dim).transpose(0, 1)  # (H, T, Dk)
        k = self.k_proj(x).view(tokens, spec.num_kv_heads, spec.head_dim).transpose(0, 1)  # (KV, T, Dk)
        v = self.v_proj(x).view(tokens, spec.num_kv_heads, spec.v_head_dim).transpose(0, 1)  # (KV, T, Dv)
        v = v * self.value_scale  # scaled before caching, as the reference does
        q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        keys, values, key_positions = cache.update(k, v, start)
        out = attend(q, keys, values, start, key_positions, spec.window, self.sinks)  # (H, T, Dv)
        return self.o_proj(out.transpose(0, 1).reshape(tokens, spec.num_heads * spec.v_head_dim))  # (T, D)


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    start: int,
    k_pos: torch.Tensor,
    window: int | None,
    sinks: torch.Tensor | None,
) -> torch.Tensor:
    """Causal (optionally windowed) GQA attention with an optional per-head sink logit → (H, T, Dv).

    The sink is folded into SDPA as one extra key whose value is zero and whose score comes from the
    additive mask: softmax then spreads over the real keys plus the sink, and the sink adds nothing.
    """
    heads, tokens, dk = q.shape
    kv_heads, _, dv = v.shape
    scale = dk**-0.5
    if sinks is not None:
        k = torch.cat((k, k.new_zeros(kv_heads, 1, dk)), dim=1)  # (KV, S + 1, Dk)
        v = torch.cat((v, v.new_zeros(kv_heads, 1, dv)), dim=1)  # (KV, S + 1, Dv)
    if tokens == 1:
        # Decode: the cache hands over exactly the visible keys. The G query heads sharing a kv head
        # become G query rows of that head, so K/V are never repeated per query head.
        group = heads // kv_heads
        q_rows = q.reshape(1, kv_heads, group, dk)  # (1, KV, G, Dk)
        mask = None
        if sinks is not None:
            mask = q.new_zeros(kv_heads, group, k.shape[1])  # (KV, G, S + 1)
            mask[:, :, -1] = sinks.view(kv_heads, group)  # head h = kv * G + g, as in the GQA grouping
            mask = mask[None]
        out = F.scaled_dot_product_attention(
            q_rows, k[None], v[None], attn_mask=mask, scale=scale
        )  # (1, KV, G, Dv)
        return out.reshape(heads, 1, dv)  # (H, 1, Dv)
    q_pos = torch.arange(start, start + tokens, device=q.device)  # (T,)
    rel = q_pos[:, None] - k_pos[None, :]  # (T, S)
    allowed = rel >= 0
    if window is not None:
        allowed &= rel <= window
    mask = allowed[None]  # (1, T, S)
    if sinks is not None:
        bias = q.new_zeros(heads, tokens, k.shape[1])  # (H, T, S + 1)
        bias[:, :, :-1].masked_fill_(~allowed, float("-inf"))
        bias[:, :, -1] = sinks[:, None]
        mask = bias
    # Equal q/k and v widths let SDPA pick its fused kernel, which never holds the (H, T, S) scores.
    width = max(dk, dv)
    q, k, v = (F.pad(t, (0, width - t.shape[-1])) if t.shape[-1] < width else t for t in (q, k, v))
    out = F.scaled_dot_product_attention(
        q[None], k[None], v[None], attn_mask=mask[None], scale=scale, enable_gqa=True
    )  # (1, H, T, width)
    return out[0, :, :, :dv]
