"""The few-row linear: native kernel when it applies, torch otherwise, the same numbers either way."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mimo_agent.engine import native
from mimo_agent.engine.linear import Linear, linear
from mimo_agent.engine.native import ops

needs_native = pytest.mark.skipif(native.library() is None, reason="no C compiler: no native kernel here")


@needs_native
@pytest.mark.parametrize("rows", range(1, 9))
@pytest.mark.parametrize(("out_features", "in_features"), [(48, 32), (300, 512), (128, 2048), (40, 23)])
def test_native_rows_match_torch(rows: int, out_features: int, in_features: int) -> None:
    gen = torch.Generator().manual_seed(rows)
    x = torch.randn(rows, in_features, generator=gen)
    w = torch.randn(out_features, in_features, generator=gen)
    torch.testing.assert_close(linear(x, w), F.linear(x, w), rtol=1e-5, atol=1e-4)


@needs_native
@pytest.mark.parametrize("threads", [1, 2])
def test_a_row_gives_bitwise_the_same_alone_or_among_others(threads: int) -> None:
    """Speculative verification (k + 1 rows) must reproduce plain decoding (1 row) exactly."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        x, w = torch.randn(4, 512), torch.randn(1024, 512)  # ≥ THREADED_FROM elements: threaded
        together = linear(x, w)
        for row in range(4):
            assert torch.equal(linear(x[row : row + 1], w)[0], together[row])
            assert torch.equal(linear(x[row], w), together[row])  # a 1-D input, too
    finally:
        torch.set_num_threads(previous)


@needs_native
@pytest.mark.parametrize("rows", [1, 4, 8])
@pytest.mark.parametrize("in_features", [512, 40, 23])
def test_bfloat16_weights_widen_exactly(rows: int, in_features: int) -> None:
    """A bfloat16 weight gives what its float32 widening gives, bitwise, and each row the same alone."""
    gen = torch.Generator().manual_seed(in_features)
    x = torch.randn(rows, in_features, generator=gen)
    w = torch.randn(300, in_features, generator=gen).bfloat16()
    out = linear(x, w)
    assert out.dtype == torch.float32
    assert torch.equal(out, linear(x, w.float()))
    torch.testing.assert_close(out, F.linear(x, w.float()), rtol=1e-5, atol=1e-4)
    for row in range(rows):
        assert torch.equal(linear(x[row : row + 1], w)[0], out[row])


def test_a_narrower_weight_is_widened_for_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the kernel (or for a prefill chunk) a bfloat16 weight is computed in x's dtype."""
    monkeypatch.setattr(ops, "library", lambda: None)
    x, w = torch.randn(12, 64), torch.randn(32, 64).bfloat16()
    out = linear(x, w)
    assert out.dtype == torch.float32
    assert torch.equal(out, F.linear(x, w.float()))


@needs_native
def test_the_kernel_really_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against a silent fallback: with the kernel the rounding differs from torch's."""
    calls = []
    real = native.library()
    assert real is not None

    class Spy:
        def small_m_linear(self, *args: object) -> int:
            calls.append(args)
            return real.small_m_linear(*args)

    monkeypatch.setattr(ops, "library", lambda: Spy())
    linear(torch.randn(2, 64), torch.randn(32, 64))
    assert len(calls) == 1


def test_torch_takes_what_the_kernel_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the native kernel must not be used here")

    monkeypatch.setattr(ops, "library", refuse)
    w = torch.randn(32, 64)
    cases = [
        (torch.randn(9, 64), w),  # more rows than the kernel takes (a prefill chunk)
        (torch.randn(2, 64, dtype=torch.bfloat16), w.bfloat16()),
        (torch.randn(2, 64), w.t().contiguous().t()),  # column-major weight
    ]
    for x, weight in cases:
        torch.testing.assert_close(linear(x, weight), F.linear(x, weight))


def test_gradients_flow_through_torch() -> None:
    layer = Linear(64, 32)
    x = torch.randn(2, 64, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad is not None and layer.weight.grad is not None
    assert set(layer.state_dict()) == {"weight"}  # the checkpoint names of a bias-free nn.Linear
