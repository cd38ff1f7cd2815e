"""The few-token attention path (decode, MTP draft and verify) against the SDPA path used for prefill."""

from __future__ import annotations

import pytest
import torch

from mimo_agent.engine.attention import SMALL_T, _attend_sdpa, _attend_small


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
