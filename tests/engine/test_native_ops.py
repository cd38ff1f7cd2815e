"""Native attention, RMSNorm and MoE against the torch paths they replace."""

from __future__ import annotations

import pytest
import torch

from mimo_agent.engine import attention, moe
from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.layers import RMSNorm
from mimo_agent.engine.native import library, ops
from mimo_agent.engine.weight_layout import store_weights
from tests.engine.tiny_models import tiny_config

pytestmark = pytest.mark.skipif(library() is None, reason="no C compiler: no native kernel here")
NEVER = -(2**40)


def torch_attention(*args: object) -> torch.Tensor:
    """`attention._attend_small` with the native kernel switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attention, "few_query_attention", lambda *_: None)
        return attention._attend_small(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize("tokens", [1, 3, 8])
@pytest.mark.parametrize("sinks", [True, False])
@pytest.mark.parametrize(("window", "dk", "dv"), [(None, 48, 32), (6, 48, 32), (6, 23, 9)])
def test_matches_torch_on_a_ring_and_a_global_cache(
    tokens: int, sinks: bool, window: int | None, dk: int, dv: int
) -> None:
    gen = torch.Generator().manual_seed(tokens)
    heads, kv_heads, keys, start = 8, 2, 12, 20
    q = torch.randn(heads, tokens, dk, generator=gen)
    k_store = torch.randn(kv_heads, 32, dk, generator=gen)  # a longer buffer, as the caches keep
    v_store = torch.randn(kv_heads, 32, dv, generator=gen)
    k, v = k_store[:, :keys], v_store[:, :keys]
    if window is None:  # global: key j is position j (the queries see them all up to themselves)
        k_pos, start = torch.arange(keys), keys - tokens
    else:  # a ring: slots out of order, one never written
        k_pos = torch.tensor([12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, NEVER])[
            torch.randperm(keys, generator=gen)
        ]
        start = 23 - tokens if tokens <= 3 else 15
    sink = torch.randn(heads, generator=gen) if sinks else None
    native = ops.few_query_attention(q, k, v, start, k_pos, window, sink)
    assert native is not None
    torch.testing.assert_close(
        native, torch_attention(q, k, v, start, k_pos, window, sink), rtol=1e-5, atol=1e-5
    )


def test_a_query_gives_bitwise_the_same_alone_or_among_others() -> None:
    """A verify's rows equal plain decoding's, so speculative greedy output equals plain greedy output."""
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(8, 4, 64, generator=gen)
    k, v = torch.randn(2, 40, 64, generator=gen), torch.randn(2, 40, 32, generator=gen)
    k_pos, sinks = torch.arange(40), torch.randn(8, generator=gen)
    together = ops.few_query_attention(q, k, v, 36, k_pos, 16, sinks)
    assert together is not None
    for t in range(4):  # query t alone sees the cache up to itself; later keys are masked anyway
        alone = ops.few_query_attention(q[:, t : t + 1], k, v, 36 + t, k_pos, 16, sinks)
        assert alone is not None and torch.equal(alone[:, 0], together[:, t])


def test_torch_takes_over_where_the_kernel_does_not_apply() -> None:
    q, k, v = torch.randn(4, 9, 16), torch.randn(2, 9, 16), torch.randn(2, 9, 8)
    assert ops.few_query_attention(q, k, v, 0, torch.arange(9), None, None) is None  # 9 > 8 queries
    assert (
        ops.few_query_attention(q[:, :1].double(), k.double(), v.double(), 8, torch.arange(9), None, None)
        is None
    )
    assert (
        ops.few_query_attention(
            q[:, :1], k.transpose(1, 2).contiguous().transpose(1, 2), v, 8, torch.arange(9), None, None
        )
        is None
    )
    keys = ops.MAX_KEYS + 1  # a long global context: torch's batched matmuls win
    long_k, long_v = torch.randn(2, keys, 16), torch.randn(2, keys, 8)
    assert ops.few_query_attention(q[:, :1], long_k, long_v, keys - 1, torch.arange(keys), None, None) is None
    assert ops.rms_norm(torch.randn(9, 16), torch.ones(16), 1e-5) is None


@pytest.mark.parametrize("rows", [1, 4])
def test_rms_norm_matches_torch(rows: int) -> None:
    norm = RMSNorm(40, 1e-5)
    with torch.no_grad():
        norm.weight.normal_()
    x = torch.randn(rows, 40)
    assert ops.rms_norm(x, norm.weight, norm.eps) is None, "a trainable weight under autograd: torch's path"
    with torch.no_grad():
        native = ops.rms_norm(x, norm.weight, norm.eps)
    assert native is not None
    reference = torch.nn.functional.rms_norm(x, (40,), norm.weight, norm.eps)
    torch.testing.assert_close(native, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("keys", [16, 17, 200])
def test_matches_torch_over_whole_vectors_of_keys(keys: int) -> None:
    """Scores are exponentiated 16 keys at a time with a tail; scaled-up queries spread the scores over
    the polynomial's range, and the keys masked for the earlier queries (-inf) must give exactly zero."""
    gen = torch.Generator().manual_seed(keys)
    q = torch.randn(16, 3, 64, generator=gen) * 4
    k, v = torch.randn(1, keys, 64, generator=gen), torch.randn(1, keys, 32, generator=gen)
    k_pos, start = torch.arange(keys), keys - 3
    native = ops.few_query_attention(q, k, v, start, k_pos, None, None)
    assert native is not None
    torch.testing.assert_close(
        native, torch_attention(q, k, v, start, k_pos, None, None), rtol=1e-5, atol=1e-5
    )


def random_moe(normalise: bool, scale: float, dtype: torch.dtype) -> moe.MoE:
    config = ModelConfig.from_dict(
        tiny_config(n_routed_experts=12, num_experts_per_tok=3, norm_topk_prob=normalise,
                    routed_scaling_factor=scale).to_dict()
    )  # fmt: skip
    block = moe.MoE(config)
    gen = torch.Generator().manual_seed(int(normalise))
    with torch.no_grad():
        for tensor in (block.gate.weight, block.experts.gate_up_proj, block.experts.down_proj):
            tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.2)
        block.gate.e_score_correction_bias.copy_(torch.randn(12, generator=gen) * 0.1)
    store_weights(block, dtype)
    return block.eval()


@pytest.mark.parametrize("rows", [1, 3, 8])
@pytest.mark.parametrize(("normalise", "scale"), [(True, 1.0), (False, 2.5)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_moe_matches_the_torch_path(rows: int, normalise: bool, scale: float, dtype: torch.dtype) -> None:
    block = random_moe(normalise, scale, dtype)
    x = torch.randn(rows, block.gate.weight.shape[1], generator=torch.Generator().manual_seed(rows))
    gate, experts = block.gate, block.experts
    with torch.no_grad():
        native = block(x)
        direct = ops.moe_few(x, gate.weight, gate.e_score_correction_bias, gate.top_k, gate.normalise,
                             gate.scale, experts.gate_up_proj, experts.down_proj)  # fmt: skip
        assert direct is not None and torch.equal(direct, native), "the block took the kernel"
        assert experts.gate_up_proj.dtype == dtype
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(moe, "moe_few", lambda *_: None)
            torch_path = block(x)
    torch.testing.assert_close(native, torch_path, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # each row the same alone: a verify equals plain decoding, bitwise
        assert all(torch.equal(block(x[r : r + 1])[0], native[r]) for r in range(rows))


def test_moe_kernel_leaves_training_and_prefill_to_torch() -> None:
    block = random_moe(True, 1.0, torch.float32)
    args = (block.gate.weight, block.gate.e_score_correction_bias, 3, True, 1.0)
    stacks = (block.experts.gate_up_proj, block.experts.down_proj)
    x = torch.randn(2, block.gate.weight.shape[1])
    block.gate.weight.requires_grad_(False)
    assert ops.moe_few(x, *args, *stacks) is None, "trainable experts under autograd: torch's path"
    block.experts.requires_grad_(False)
    assert ops.moe_few(x, *args, *stacks) is not None, "nothing needs gradients: the kernel"
    assert ops.moe_few(x.clone().requires_grad_(), *args, *stacks) is None, "gradients for x: torch's"
    assert ops.moe_few(torch.randn(9, x.shape[1]), *args, *stacks) is None  # a prefill chunk
