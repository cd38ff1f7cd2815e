"""Native attention, the fused attention step, RMSNorm and MoE against the torch paths they replace."""

from __future__ import annotations

import pytest
import torch

from mimo_agent.engine import attention, linear, moe
from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.kv_cache import GlobalKV, KVCache
from mimo_agent.engine.layers import RMSNorm, Rotary
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.native import library, ops
from mimo_agent.engine.weight_layout import decode_layout, store_weights
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


def attention_block(layer: int, weight_dtype: torch.dtype) -> tuple[attention.Attention, ModelConfig]:
    """Layer `layer`'s attention of the tiny config with random weights and sinks, decode-ready."""
    config = ModelConfig.from_dict(tiny_config().to_dict(), source="tiny_config()")
    block = attention.Attention(config.attention(layer), config.hidden_size, config.attention_value_scale)
    gen = torch.Generator().manual_seed(layer)
    with torch.no_grad():
        for parameter in block.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=gen) * 0.3)
    store_weights(block, weight_dtype)
    decode_layout(block)  # fuses q/k/v, as the engine does
    return block, config


def run_block(
    block: attention.Attention, config: ModelConfig, cache: KVCache, layer: int, x: torch.Tensor, path: str
) -> torch.Tensor:
    """x (T, D) at the cache's length through the block: "step" as the engine runs it, "ops" without the
    fused native step (one native kernel per op), "torch" with no native kernel at all."""
    rope = Rotary(config.attention(layer)).cos_sin(
        torch.arange(cache.length, cache.length + x.shape[0]), x.dtype
    )
    with pytest.MonkeyPatch.context() as patch, torch.no_grad():
        if path != "step":
            patch.setattr(attention, "attention_step", lambda *_: None)
        if path == "torch":
            patch.setattr(attention, "few_query_attention", lambda *_: None)
            patch.setattr(linear, "few_rows_linear", lambda *_: None)
        out = block(x, rope, cache.length, cache.layers[layer])
    cache.length += x.shape[0]
    return out


@pytest.mark.parametrize("tokens", [1, 4, 5])  # 4: a verify as long as the ring's slack; 5: one longer
@pytest.mark.parametrize("weight_dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("layer", [0, 1])  # global, sliding window (a ring of 16 + 4 slots)
def test_attention_step_matches_the_block_run_op_by_op(
    layer: int, weight_dtype: torch.dtype, tokens: int
) -> None:
    """The fused native step (projections, rotary, value scale, cache write, attention, o_proj) gives
    bitwise what the same block gives one op at a time, and leaves a bitwise equal cache (so a step that
    falls back mid-sequence sees the same keys); torch without native kernels agrees to rounding.
    Step after step, verifies cross the ring's end; a verify longer than the ring's slack (5) must not
    write in place over keys its first queries still need."""
    block, config = attention_block(layer, weight_dtype)
    paths = ("step", "ops", "torch")
    caches = {path: KVCache(config, 64, torch.float32) for path in paths}
    gen = torch.Generator().manual_seed(tokens)
    prompt = torch.randn(18, config.hidden_size, generator=gen)
    for path in paths:
        run_block(block, config, caches[path], layer, prompt, "torch")  # 18 > 8 rows: a prefill chunk
    for _ in range(6):  # 18 + 6 · 4 positions: the 20-slot ring wraps inside verifies
        x = torch.randn(tokens, config.hidden_size, generator=gen)
        out = {path: run_block(block, config, caches[path], layer, x, path) for path in paths}
        kv = {path: caches[path].layers[layer] for path in paths}
        assert torch.equal(out["step"], out["ops"])
        assert torch.equal(kv["step"].k, kv["ops"].k) and torch.equal(kv["step"].v, kv["ops"].v)
        torch.testing.assert_close(out["step"], out["torch"], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(kv["step"].k, kv["torch"].k, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(kv["step"].v, kv["torch"].v, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("layer", "context"), [(0, 18), (1, 18), (0, 300)])  # 300: a long global context
def test_attention_step_rows_equal_single_steps_bitwise(layer: int, context: int) -> None:
    """A verify's four rows in one native step give bitwise what four decode steps give (greedy MTP
    output then equals plain decoding), and the caches end identical."""
    block, config = attention_block(layer, torch.float32)
    caches = [KVCache(config, 320, torch.float32) for _ in range(2)]
    gen = torch.Generator().manual_seed(layer)
    prompt = torch.randn(context, config.hidden_size, generator=gen)
    x = torch.randn(4, config.hidden_size, generator=gen)
    for cache in caches:
        run_block(block, config, cache, layer, prompt, "torch")
    together = run_block(block, config, caches[0], layer, x, "step")
    alone = torch.cat([run_block(block, config, caches[1], layer, x[t : t + 1], "step") for t in range(4)])
    assert torch.equal(together, alone)
    assert torch.equal(caches[0].layers[layer].k, caches[1].layers[layer].k)
    assert torch.equal(caches[0].layers[layer].v, caches[1].layers[layer].v)


def test_attention_step_leaves_what_it_cannot_do_to_torch() -> None:
    block, config = attention_block(0, torch.float32)
    spec = config.attention(0)
    big, small = (KVCache(config, size, torch.float32).layers[0] for size in (64, 8))
    layer = (spec.num_heads, spec.window, block.sinks, block.value_scale)
    assert block.qkv_weight is not None

    def attempt(
        tokens: int, keys: int, cache: GlobalKV = big, ring: int = 0, o_weight: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """`tokens` new tokens ending at position keys - 1 (a ring: `keys` slots, positions 0..)."""
        x = torch.randn(tokens, config.hidden_size)
        rope = Rotary(spec).cos_sin(torch.arange(keys - tokens, keys), x.dtype)
        slots = (ring, torch.arange(keys) if ring else None, keys)
        o_weight = block.o_proj.weight if o_weight is None else o_weight
        return ops.attention_step(
            x, block.qkv_weight, o_weight, rope, cache.k, cache.v, *slots, keys - tokens, *layer
        )

    assert attempt(1, 1) is None, "trainable weights under autograd: torch's path"
    with torch.no_grad():
        assert attempt(1, 1) is not None
        assert attempt(9, 9) is None  # more rows than the kernel takes
        assert attempt(1, 1, o_weight=block.o_proj.weight.to(torch.int8)) is None  # an int8 draft's o_proj
        assert attempt(1, 8, small) is not None
        assert attempt(1, 9, small) is None  # position 8 is past the 8-slot cache
        assert attempt(1, 16, small, ring=16) is None  # a ring larger than its cache


def test_a_verify_gives_the_logits_of_single_steps_bitwise_past_hundreds_of_keys() -> None:
    """The whole model: four tokens in one forward (an MTP verify) give, row by row, bitwise the logits of
    four single-token forwards, also once the global layers hold hundreds of keys. (Torch's batched
    matmuls round a row differently with the rows beside it: speculative greedy output would then
    drift from plain greedy output at long contexts.)"""
    model = MiMoForCausalLM(ModelConfig.from_dict(tiny_config().to_dict(), source="tiny_config()"))
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=gen) * 0.2)
    decode_layout(model.eval())
    prompt = torch.randint(0, model.config.vocab_size, (300,), generator=gen)
    verify = torch.randint(0, model.config.vocab_size, (4,), generator=gen)
    caches = [KVCache(model.config, 320, torch.float32) for _ in range(2)]
    for cache in caches:
        model(prompt, cache)
    together = model(verify, caches[0], all_logits=True).logits  # (4, V)
    alone = torch.cat([model(verify[t : t + 1], caches[1]).logits for t in range(4)])  # (4, V)
    assert torch.equal(together, alone)
