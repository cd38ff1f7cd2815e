"""Torch-facing wrappers of the native kernels: each returns None where its kernel does not apply
(no library, another dtype or device, too many rows, autograd), and the caller uses torch instead."""

from __future__ import annotations

import torch

from mimo_agent.engine.native import library

MAX_ROWS = 8  # the kernels' limit on query rows / matmul rows; an MTP verify has at most 1 + 3
# Attention takes any number of keys: torch's batched matmuls round a row differently with the number of
# rows beside it, so a verify would not give what single steps give (greedy MTP must equal plain decoding).
THREADED_FROM = 1 << 18  # work (weight elements, or query·key·dim products) from which to use threads


# The few-row kernel for each weight dtype the engine stores.
_LINEAR_KERNELS = {
    torch.float32: "small_m_linear",
    torch.bfloat16: "small_m_linear_bf16",
    torch.int8: "small_m_linear_i8",
}


def few_rows_linear(
    x: torch.Tensor, weight: torch.Tensor, scale: torch.Tensor | None = None
) -> torch.Tensor | None:
    """x (…, K) · weightᵀ (N, K) → (…, N) for at most MAX_ROWS rows of x. The weight is float32,
    bfloat16 (widened exactly in the kernel: the products and sums are float32's) or int8 with its
    per-row `scale` (N,) float32 (the weight is then scale[:, None] · weight)."""
    kernel = _LINEAR_KERNELS.get(weight.dtype)
    if not (
        kernel is not None
        and _plain(x)
        and weight.is_cpu
        and not (torch.is_grad_enabled() and weight.requires_grad)
        and weight.dim() == 2
        and weight.is_contiguous()
        and x.shape[-1] == weight.shape[1] > 0
        and 0 < x.numel() // x.shape[-1] <= MAX_ROWS
        and (scale is None) == (weight.dtype is not torch.int8)
        and (scale is None or (_plain(scale) and scale.shape == (weight.shape[0],)))
    ):
        return None
    lib = library()
    if lib is None:
        return None
    rows = x if x.dim() == 2 and x.is_contiguous() else x.reshape(-1, x.shape[-1]).contiguous()  # (M, K)
    m, k = rows.shape
    n = weight.shape[0]
    out = x.new_empty(m, n)  # (M, N)
    threads = torch.get_num_threads() if n * k >= THREADED_FROM else 1
    getattr(lib, kernel)(rows.data_ptr(), weight.data_ptr(), out.data_ptr(), m, k, n, threads)
    if scale is not None:
        out.mul_(scale)
    return out if x.dim() == 2 else out.view(*x.shape[:-1], n)  # (…, N)


def few_query_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    start: int,
    k_pos: torch.Tensor,
    window: int | None,
    sinks: torch.Tensor | None,
) -> torch.Tensor | None:
    """q (H, T, Dk) at positions start.., keys k (KV, S, Dk) / values v (KV, S, Dv) at positions k_pos
    (S,) → (H, T, Dv); the same masking and sink as `attention.attend`."""
    heads, tokens, dk = q.shape
    kv_heads, keys, dv = v.shape
    if not (
        _plain(q, k, v)
        and 0 < tokens <= MAX_ROWS
        and keys > 0
        and heads % kv_heads == 0
        and k.shape == (kv_heads, keys, dk)
        and k_pos.shape == (keys,)
        and (sinks is None or sinks.shape == (heads,))
        and k.stride()[1:] == (dk, 1)
        and v.stride()[1:] == (dv, 1)
        and k_pos.dtype == torch.int64
        and k_pos.is_contiguous()
        and (sinks is None or (sinks.dtype == torch.float32 and sinks.is_contiguous()))
    ):
        return None
    lib = library()
    if lib is None:
        return None
    q = q.contiguous()
    out = q.new_empty(heads, tokens, dv)
    threads = torch.get_num_threads() if heads * tokens * keys * dk >= THREADED_FROM else 1
    failed = lib.few_query_attention(
        q.data_ptr(), k.data_ptr(), k.stride(0), v.data_ptr(), v.stride(0), k_pos.data_ptr(),
        out.data_ptr(), heads, kv_heads, tokens, keys, dk, dv, start, -1 if window is None else window,
        None if sinks is None else sinks.data_ptr(), dk**-0.5, threads,
    )  # fmt: skip
    if failed:
        raise RuntimeError("few_query_attention: a query sees no key (or out of memory)")
    return out


def attention_step(
    x: torch.Tensor,
    qkv_weight: torch.Tensor,
    o_weight: torch.Tensor,
    rope: tuple[torch.Tensor, torch.Tensor],
    cache_k: torch.Tensor,
    cache_v: torch.Tensor,
    ring: int,
    positions: torch.Tensor | None,
    keys: int,
    start: int,
    heads: int,
    window: int | None,
    sinks: torch.Tensor | None,
    value_scale: float,
) -> torch.Tensor | None:
    """A whole attention block for x (T, D), the normed input of T <= MAX_ROWS new tokens at positions
    start.., in one native call: the fused q/k/v projection, rotary, the value scale, the new keys and
    values written into cache_k (KV, cap, Dk) / cache_v (KV, cap, Dv) (position p in slot p % ring, or
    slot p when ring is 0), attention over slots 0..keys-1 holding `positions` (None: slot = position),
    o_proj → (T, D). The weights are both float32 or both bfloat16."""
    tokens, hidden = x.shape if x.dim() == 2 else (0, 0)
    kv_heads, capacity, dk = cache_k.shape
    dv = cache_v.shape[-1]
    cos, sin = rope
    if not (
        0 < tokens <= MAX_ROWS
        and 0 < keys <= capacity
        and start >= 0
        and (  # every slot written lies in the cache: a ring is the whole cache, else slot = position
            (ring == 0 and positions is None and start + tokens <= keys)
            or (ring == capacity == keys and positions is not None and positions.is_cpu)
        )
        and _plain(x, cos, sin, cache_k, cache_v)
        and qkv_weight.dtype in (torch.float32, torch.bfloat16)
        and o_weight.dtype is qkv_weight.dtype
        and qkv_weight.is_cpu
        and o_weight.is_cpu
        and not (torch.is_grad_enabled() and (qkv_weight.requires_grad or o_weight.requires_grad))
        and x.is_contiguous()
        and qkv_weight.is_contiguous()
        and o_weight.is_contiguous()
        and cache_k.is_contiguous()
        and cache_v.is_contiguous()
        and heads % kv_heads == 0
        and qkv_weight.shape == ((heads + kv_heads) * dk + kv_heads * dv, hidden)
        and o_weight.shape == (hidden, heads * dv)
        and cache_v.shape[:2] == (kv_heads, capacity)
        and cos.shape == sin.shape
        and cos.dim() == 2
        and cos.shape[0] == tokens
        and 0 < cos.shape[1] <= dk
        and cos.shape[1] % 2 == 0
        and cos.is_contiguous()
        and sin.is_contiguous()
        and (positions is None or (positions.shape == (keys,) and positions.dtype == torch.int64))
        and (positions is None or positions.is_contiguous())
        and (sinks is None or (_plain(sinks) and sinks.shape == (heads,) and sinks.is_contiguous()))
    ):
        return None
    lib = library()
    if lib is None:
        return None
    out = x.new_empty(tokens, hidden)
    failed = lib.attention_step(
        x.data_ptr(), tokens, hidden, qkv_weight.data_ptr(), o_weight.data_ptr(),
        int(qkv_weight.dtype is torch.bfloat16), cos.data_ptr(), sin.data_ptr(), cos.shape[1],
        cache_k.data_ptr(), cache_v.data_ptr(), capacity, ring,
        None if positions is None else positions.data_ptr(), keys, heads, kv_heads, dk, dv, start,
        -1 if window is None else window, None if sinks is None else sinks.data_ptr(), dk**-0.5, value_scale,
        out.data_ptr(), torch.get_num_threads(),
    )  # fmt: skip
    if failed:
        raise RuntimeError("attention_step: a query sees no key (or out of memory)")
    return out


def moe_few(
    x: torch.Tensor,
    router: torch.Tensor,
    bias: torch.Tensor,
    top_k: int,
    normalise: bool,
    scale: float,
    gate_up: torch.Tensor,
    down: torch.Tensor,
) -> torch.Tensor | None:
    """The whole MoE block (`moe.MoE`) for at most MAX_ROWS rows x (M, D): router (E, D) and bias (E,)
    float32, expert stacks gate_up (E, 2I, D) and down (E, D, I) both float32 or both bfloat16.
    Exactly tied biased scores pick the lower expert id, where torch.topk may pick another: only a
    degenerate router (all-zero weights, a zero input) ties, so prefill and decode still agree."""
    if not (
        _plain(x, router, bias)
        and x.dim() == 2
        and 0 < x.shape[0] <= MAX_ROWS
        and type(gate_up) is type(down)
        and isinstance(gate_up, torch.Tensor)
        and gate_up.dtype in (torch.float32, torch.bfloat16)
        and down.dtype == gate_up.dtype
        and gate_up.is_cpu
        and down.is_cpu
        and not (torch.is_grad_enabled() and (gate_up.requires_grad or down.requires_grad))
        and all(t.is_contiguous() for t in (router, bias, gate_up, down))
    ):
        return None
    experts, two_inter, hidden = gate_up.shape
    if not (
        router.shape == (experts, hidden) == (bias.shape[0], x.shape[1])
        and down.shape == (experts, hidden, two_inter // 2)
    ):
        return None
    lib = library()
    if lib is None:
        return None
    rows = x.contiguous()
    out = torch.empty_like(rows)
    failed = lib.moe_few(
        rows.data_ptr(), rows.shape[0], hidden, router.data_ptr(), bias.data_ptr(), experts, top_k,
        int(normalise), scale, gate_up.data_ptr(), down.data_ptr(), int(gate_up.dtype is torch.bfloat16),
        two_inter // 2, out.data_ptr(), torch.get_num_threads(),
    )  # fmt: skip
    return None if failed else out


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor | None:
    """RMSNorm of x (…, D) rows with weight (D,), for at most MAX_ROWS rows."""
    if not (
        _plain(x, weight)
        and weight.is_contiguous()
        and weight.shape == (x.shape[-1],)
        and x.shape[-1] > 0
        and 0 < x.numel() // x.shape[-1] <= MAX_ROWS
    ):
        return None
    lib = library()
    if lib is None:
        return None
    rows = x.reshape(-1, x.shape[-1]).contiguous()  # (M, D)
    out = torch.empty_like(rows)
    lib.rms_norm(rows.data_ptr(), weight.data_ptr(), out.data_ptr(), *rows.shape, eps)
    return out.view(x.shape)


def _plain(*tensors: torch.Tensor) -> bool:
    """float32 CPU tensors that autograd does not need to see through. (A plain loop: this runs for
    every matmul of a decode step.)"""
    grad = torch.is_grad_enabled()
    for t in tensors:
        if t.dtype is not torch.float32 or not t.is_cpu or (grad and t.requires_grad):
            return False
    return True
