"""The few-token attention path (decode, MTP draft and verify) against the SDPA path used for prefill."""

from __future__ import annotations

import pytest
import torch

from mimo_agent.engine.attention import SMALL_T, _attend_banded, _attend_sdpa, _attend_small, attend


@pytest.mark.parametrize("tokens", [1, 2, 4, SMALL_T])
@pytest.mark.parametrize(("window", "sink"), [(None, False), (None, True), (6, True), (6, False)])
def test_small_path_equals_sdpa_with_keys_in_ring_order(tokens: int, window: int | None, sink: bool) -> None:
    """Keys arrive in ring-slot order with a slot never written (a negative position far outside every
    window) and future slots; both paths must mask them alike."""
    gen = torch.Generator().manual_seed(tokens)
    heads, kv_heads, dk, dv, start = 4, 2, 12, 8, 9
    positions = torch.tensor([*range(start, start + tokens), *range(0, start), -(2**40)])
    order = torch.randperm(positions.numel(), generator=gen)
    k_pos = positions[order]  # (S,) slot order
    q = torch.randn(heads, tokens, dk, generator=gen)
    k = torch.randn(kv_heads, k_pos.numel(), dk, generator=gen)
    v = torch.randn(kv_heads, k_pos.numel(), dv, generator=gen)
    sinks = torch.randn(heads, generator=gen) if sink else None
    if window is None:  # a global layer never sees an unwritten slot: drop it
        keep = k_pos >= 0
        k_pos, k, v = k_pos[keep], k[:, keep], v[:, keep]
    small = _attend_small(q, k, v, start, k_pos, window, sinks)
    sdpa = _attend_sdpa(q, k, v, start, k_pos, window, sinks)
    assert small.shape == (heads, tokens, dv)
    assert torch.allclose(small, sdpa, atol=1e-5)


@pytest.mark.parametrize("tokens", [SMALL_T + 1, 37, 128, 300])
@pytest.mark.parametrize(("window", "sink"), [(16, True), (16, False), (128, True), (None, False)])
def test_whole_sequence_paths_equal_the_masked_path(tokens: int, window: int | None, sink: bool) -> None:
    """From position 0 with every key its own query's: banded windows, or SDPA's own causal mask."""
    gen = torch.Generator().manual_seed(tokens)
    heads, kv_heads, dk, dv = 4, 2, 12, 8
    q = torch.randn(heads, tokens, dk, generator=gen)
    k = torch.randn(kv_heads, tokens, dk, generator=gen)
    v = torch.randn(kv_heads, tokens, dv, generator=gen)
    sinks = torch.randn(heads, generator=gen) if sink else None
    fast = attend(q, k, v, 0, torch.arange(tokens), window, sinks)
    masked = _attend_sdpa(q, k, v, 0, torch.arange(tokens), window, sinks)
    assert fast.shape == (heads, tokens, dv)
    assert torch.allclose(fast, masked, atol=1e-5)


def test_banded_attention_is_differentiable_like_the_masked_path() -> None:
    gen = torch.Generator().manual_seed(0)
    q, k = torch.randn(4, 50, 12, generator=gen), torch.randn(2, 50, 12, generator=gen)
    v, sinks = torch.randn(2, 50, 8, generator=gen), torch.randn(4, generator=gen)
    grads = []
    for path in (
        lambda *a: _attend_banded(*a),
        lambda q, k, v, w, s: _attend_sdpa(q, k, v, 0, torch.arange(50), w, s),
    ):
        leaves = [t.clone().requires_grad_() for t in (q, k, v, sinks)]
        path(leaves[0], leaves[1], leaves[2], 8, leaves[3]).square().sum().backward()
        grads.append([t.grad for t in leaves])
    for banded, masked in zip(*grads, strict=True):
        assert torch.allclose(banded, masked, atol=1e-4)
