"""One attention class for both layer types; the layer's `AttentionSpec` decides window, heads and sinks.

Legend: H query heads, KV key/value heads, G = H / KV query heads per kv head, T new tokens, S keys
visible to them, Dk q/k head dim, Dv value head dim. Scores are only ever (H, T, S) for one chunk of T
new tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.config import AttentionSpec
from mimo_agent.engine.kv_cache import GlobalKV, RingKV
from mimo_agent.engine.layers import apply_rotary
from mimo_agent.engine.linear import Linear, linear
from mimo_agent.engine.native.ops import attention_step, few_query_attention

# Up to this many new tokens (a decode step, an MTP draft or verify) attention is a few plain matmuls:
# SDPA's mask building, padding and dispatch cost more than the arithmetic at these sizes.
SMALL_T = 8


class Attention(nn.Module):
    def __init__(self, spec: AttentionSpec, hidden: int, value_scale: float) -> None:
        super().__init__()
        self.spec = spec
        self.value_scale = value_scale
        self.q_proj = Linear(hidden, spec.num_heads * spec.head_dim)
        self.k_proj = Linear(hidden, spec.num_kv_heads * spec.head_dim)
        self.v_proj = Linear(hidden, spec.num_kv_heads * spec.v_head_dim)
        self.o_proj = Linear(spec.num_heads * spec.v_head_dim, hidden)
        self.sinks = nn.Parameter(torch.zeros(spec.num_heads)) if spec.sink else None
        self.qkv_weight: torch.Tensor | None = None  # see fuse_projections

    def fuse_projections(self) -> bool:
        """Store q/k/v's weights as row blocks of one (Nq + Nk + Nv, D) tensor and make the three
        parameters views of it, so decoding projects with one matmul (same values, names and
        state_dict). Only for plain row-major weights on the CPU; returns whether it fused."""
        weights = [self.q_proj.weight, self.k_proj.weight, self.v_proj.weight]
        if not all(type(w) is nn.Parameter and w.device.type == "cpu" and w.is_contiguous() for w in weights):
            return False
        if self.qkv_weight is None or self.q_proj.weight.data_ptr() != self.qkv_weight.data_ptr():
            with torch.no_grad():
                fused = torch.cat([w.data for w in weights])  # (Nq + Nk + Nv, D)
                first = 0
                for w in weights:
                    w.data = fused[first : first + w.shape[0]]
                    first += w.shape[0]
            self.qkv_weight = fused
        return True

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
        start: int,
        cache: GlobalKV | RingKV,
    ) -> torch.Tensor:
        """x: (T, D) for positions start.. (the cache's length) → (T, D)."""
        spec, tokens = self.spec, x.shape[0]
        fused = self.qkv_weight is not None and not torch.is_grad_enabled()
        if fused and tokens <= SMALL_T and (slots := cache.in_place(start, tokens)) is not None:
            out = attention_step(
                x, self.qkv_weight, self.o_proj.weight, rope, cache.k, cache.v, *slots, start,
                spec.num_heads, spec.window, self.sinks, self.value_scale,
            )  # fmt: skip
            if out is not None:  # (T, D); else the kernel does not apply here, and torch's ops below run
                return out
        if fused:
            qkv = linear(x, self.qkv_weight)  # (T, Nq + Nk + Nv)
        else:  # training (autograd must reach the three parameters), or not fused
            qkv = torch.cat((self.q_proj(x), self.k_proj(x), self.v_proj(x)), dim=-1)  # (T, Nq + Nk + Nv)
        heads = spec.num_heads + spec.num_kv_heads
        qk = qkv[:, : heads * spec.head_dim].view(tokens, heads, spec.head_dim)  # (T, H + KV, Dk)
        v = qkv[:, heads * spec.head_dim :].view(tokens, spec.num_kv_heads, spec.v_head_dim)  # (T, KV, Dv)
        v = v.transpose(0, 1) * self.value_scale  # (KV, T, Dv), scaled before caching as the reference does
        qk = apply_rotary(qk.transpose(0, 1), *rope)  # (H + KV, T, Dk): one rotation
        q, k = qk[: spec.num_heads], qk[spec.num_heads :]  # (H, T, Dk), (KV, T, Dk)
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

    Keys may come in any order (a ring buffer's slots): `k_pos` gives each key's position, and keys the
    queries at start.. may not see (the future, outside the window, a slot never written) are masked.
    """
    tokens = q.shape[1]
    if tokens <= SMALL_T:
        return _attend_small(q, k, v, start, k_pos, window, sinks)
    if start == 0 and k.shape[1] == tokens:  # a whole sequence from its start: keys are positions 0..T-1
        if window is not None:
            return _attend_banded(q, k, v, window, sinks)
        if sinks is None:
            return _sdpa(q, k, v, None, is_causal=True)
    return _attend_sdpa(q, k, v, start, k_pos, window, sinks)


def _blocked(tokens: int, start: int, k_pos: torch.Tensor, window: int | None) -> torch.Tensor:
    """(T, S) True where the query at start + t may not see the key at k_pos[s]."""
    rel = torch.arange(start, start + tokens, device=k_pos.device)[:, None] - k_pos[None, :]  # (T, S)
    blocked = rel < 0
    return blocked if window is None else blocked | (rel > window)


def _attend_small(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    start: int,
    k_pos: torch.Tensor,
    window: int | None,
    sinks: torch.Tensor | None,
) -> torch.Tensor:
    """The G query heads sharing a kv head become G·T query rows of it, so K/V are never repeated.
    The sink is one extra score column per head, dropped after the softmax (its value is zero)."""
    native = few_query_attention(q, k, v, start, k_pos, window, sinks)
    if native is not None:
        return native
    heads, tokens, dk = q.shape
    kv_heads, keys, dv = v.shape
    group = heads // kv_heads
    rows = (q * dk**-0.5).reshape(kv_heads, group * tokens, dk)  # (KV, G·T, Dk): head h = kv·G + g
    scores = torch.bmm(rows, k.transpose(1, 2)).view(kv_heads, group, tokens, keys)  # (KV, G, T, S)
    if tokens > 1 or window is not None:  # one token of a global layer sees every cached key
        scores.masked_fill_(_blocked(tokens, start, k_pos, window), float("-inf"))
    if sinks is not None:
        sink = sinks.view(kv_heads, group, 1, 1).expand(kv_heads, group, tokens, 1)  # (KV, G, T, 1)
        scores = torch.cat((scores, sink.to(scores.dtype)), dim=-1)  # (KV, G, T, S + 1)
    probs = scores.softmax(dim=-1)[..., :keys].reshape(kv_heads, group * tokens, keys)  # (KV, G·T, S)
    return torch.bmm(probs, v).view(heads, tokens, dv)  # (H, T, Dv)


def _attend_sdpa(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    start: int,
    k_pos: torch.Tensor,
    window: int | None,
    sinks: torch.Tensor | None,
) -> torch.Tensor:
    """Chunked prefill. The sink is folded into SDPA as one extra key whose value is zero and whose
    score comes from the additive mask: softmax spreads over the real keys plus the sink, which adds nothing."""
    heads, tokens, dk = q.shape
    kv_heads, _, dv = v.shape
    allowed = ~_blocked(tokens, start, k_pos, window)  # (T, S)
    mask = allowed[None]  # (1, T, S)
    if sinks is not None:
        k = torch.cat((k, k.new_zeros(kv_heads, 1, dk)), dim=1)  # (KV, S + 1, Dk)
        v = torch.cat((v, v.new_zeros(kv_heads, 1, dv)), dim=1)  # (KV, S + 1, Dv)
        bias = q.new_zeros(heads, tokens, k.shape[1])  # (H, T, S + 1)
        bias[:, :, :-1].masked_fill_(~allowed, float("-inf"))
        bias[:, :, -1] = sinks[:, None]
        mask = bias
    return _sdpa(q, k, v, mask)


def _sdpa(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, is_causal: bool = False
) -> torch.Tensor:
    """SDPA over (H, T, Dk) queries and (KV, S, ·) keys/values → (H, T, Dv)."""
    dk, dv = q.shape[-1], v.shape[-1]
    # Equal q/k and v widths let SDPA pick its fused kernel, which never holds the (H, T, S) scores.
    width = max(dk, dv)
    q, k, v = (F.pad(t, (0, width - t.shape[-1])) if t.shape[-1] < width else t for t in (q, k, v))
    out = F.scaled_dot_product_attention(
        q[None],
        k[None],
        v[None],
        attn_mask=None if mask is None else mask[None],
        scale=dk**-0.5,
        is_causal=is_causal,
        enable_gqa=True,
    )  # (1, H, T, width)
    return out[0, :, :, :dv]


def _attend_banded(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int, sinks: torch.Tensor | None
) -> torch.Tensor:
    """Sliding-window attention over a whole sequence in blocks of `window` queries, each against the
    `window` keys before its block plus its own: O(T · window) scores instead of O(T²) (training, and a
    fresh prompt's first chunk)."""
    heads, tokens, dk = q.shape
    kv_heads, _, dv = v.shape
    group, block = heads // kv_heads, window
    blocks = -(-tokens // block)
    padded = blocks * block
    q = F.pad(q, (0, 0, 0, padded - tokens)).view(kv_heads, group, blocks, block, dk)  # (KV, G, N, B, Dk)
    # keys of block i are positions i·B - W .. i·B + B - 1: pad W in front, then cut overlapping windows
    k = F.pad(k, (0, 0, window, padded - tokens)).unfold(1, window + block, block)  # (KV, N, Dk, W + B)
    v = F.pad(v, (0, 0, window, padded - tokens)).unfold(1, window + block, block)  # (KV, N, Dv, W + B)
    scores = torch.matmul(q * dk**-0.5, k.unsqueeze(1))  # (KV, G, N, B, W + B)
    b = torch.arange(block, device=q.device)[:, None]  # query offset in its block
    s = torch.arange(window + block, device=q.device)[None, :]  # key slot in the block's window
    first = torch.arange(blocks, device=q.device)[:, None, None] * block - window  # position of slot 0
    allowed = (s >= b) & (s <= b + window) & (first + s >= 0)  # (N, B, W + B): 0 <= q - k <= W, k >= 0
    scores = scores.masked_fill(~allowed, float("-inf"))
    if sinks is not None:
        sink = sinks.view(kv_heads, group, 1, 1, 1).expand(kv_heads, group, blocks, block, 1)
        scores = torch.cat((scores, sink.to(scores.dtype)), dim=-1)  # (KV, G, N, B, W + B + 1)
    probs = scores.softmax(dim=-1)[..., : window + block]  # the sink's share is dropped: its value is zero
    out = torch.matmul(probs, v.unsqueeze(1).transpose(-1, -2))  # (KV, G, N, B, Dv)
    return out.reshape(heads, padded, dv)[:, :tokens]
