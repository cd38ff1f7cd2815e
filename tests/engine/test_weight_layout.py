"""Decode weight layout (same names, shapes and outputs; only the strides change) and the matrices'
storage dtype (bfloat16 weights computed in float32)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from mimo_agent.engine import native, weight_layout
from mimo_agent.engine.engine import Engine
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.engine.weight_layout import decode_layout, store_weights
from mimo_agent.evals.bench_engine import round_to_bfloat16
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import save_tiny, tiny_model


@pytest.mark.parametrize("with_native", [True, False])
def test_layout_follows_the_matmul_that_streams_it(
    monkeypatch: pytest.MonkeyPatch, with_native: bool
) -> None:
    """With the native kernel every float32 weight is row-major; without it wide ones go column-major."""
    if with_native and native.library() is None:
        pytest.skip("no C compiler here: the native kernel cannot be built")
    if not with_native:
        monkeypatch.setattr(weight_layout, "library", lambda: None)
    model = engine_twin(tiny_model(seed=0))
    for module in model.modules():  # start from the other layout, so something must change
        if isinstance(module, nn.Linear):
            module.weight.data = module.weight.data.t().contiguous().t()
    ids = torch.tensor([3, 1, 4, 1, 5])
    names = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    before = model(ids, KVCache(model.config, 16, torch.float32), all_logits=True).logits
    changed = decode_layout(model)
    after = model(ids, KVCache(model.config, 16, torch.float32), all_logits=True).logits
    assert changed > 0 and decode_layout(model) == 0  # idempotent
    assert {name: tuple(t.shape) for name, t in model.state_dict().items()} == names
    assert torch.allclose(before, after, atol=1e-5)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            out_features, in_features = module.weight.shape
            column_major = not with_native and out_features >= 2 * in_features
            assert module.weight.is_contiguous() != column_major, module


def test_a_weight_tied_to_the_embedding_keeps_its_rows() -> None:
    embed = nn.Embedding(64, 8)
    head = nn.Linear(8, 64, bias=False)
    head.weight = embed.weight
    wrapper = nn.ModuleDict({"embed": embed, "head": head})
    assert decode_layout(wrapper) == 0 and embed.weight.is_contiguous()


def test_fused_projections_keep_names_values_and_gradients() -> None:
    """q/k/v become views of one weight: one matmul per decode step, nothing else changes."""
    model = engine_twin(tiny_model(seed=1))
    ids = torch.tensor([3, 1, 4, 1, 5])
    state = {name: t.clone() for name, t in model.state_dict().items()}
    before = model(ids, KVCache(model.config, 16, torch.float32), all_logits=True).logits
    attention = model.model.layers[0].self_attn
    assert attention.fuse_projections() and attention.fuse_projections()  # idempotent
    fused = attention.qkv_weight
    assert fused is not None and attention.q_proj.weight.data_ptr() == fused.data_ptr()
    after = model(ids, KVCache(model.config, 16, torch.float32), all_logits=True).logits
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
    assert all(torch.equal(t, state[name]) for name, t in model.state_dict().items())
    with torch.no_grad():  # an update through the parameter reaches the fused weight
        attention.k_proj.weight.add_(1.0)
    assert torch.equal(fused[attention.q_proj.weight.shape[0]], attention.k_proj.weight[0])
    x = torch.randn(2, model.config.hidden_size)
    rope = model.model.rotary[model.model.layers[0].kind].cos_sin(torch.arange(2), x.dtype)
    out = attention(x, rope, 0,
                    KVCache(model.config, 4, torch.float32).layers[0])  # fmt: skip
    out.sum().backward()  # training takes the three parameters, so gradients reach them
    assert all(p.grad is not None for p in (attention.q_proj.weight, attention.v_proj.weight))


def bfloat16_exact(module: nn.Module) -> nn.Module:
    round_to_bfloat16(module)
    return module


def test_store_weights_narrows_the_streamed_matrices_only() -> None:
    model = engine_twin(tiny_model(seed=2))
    changed = store_weights(model, torch.bfloat16)
    assert changed > 0 and store_weights(model, torch.bfloat16) == 0  # idempotent
    kept = {"model.embed_tokens.weight"}
    for name, tensor in model.state_dict().items():
        narrow = tensor.dim() >= 2 and name not in kept and not name.endswith("mlp.gate.weight")
        assert tensor.dtype == (torch.bfloat16 if narrow else torch.float32), name
    for module in model.modules():  # every linear and expert stack, the lm_head included
        if isinstance(module, nn.Linear):
            assert module.weight.dtype == torch.bfloat16, module


def test_a_head_tied_to_the_embedding_keeps_its_dtype() -> None:
    embed = nn.Embedding(64, 8)
    head = nn.Linear(8, 64, bias=False)
    head.weight = embed.weight
    assert store_weights(nn.ModuleDict({"embed": embed, "head": head}), torch.bfloat16) == 0
    assert embed.weight.dtype == torch.float32


def test_bfloat16_weights_decode_as_their_float32_widening() -> None:
    """A bfloat16-exact model stored in bfloat16 gives the float32 model's logits: prefill (torch,
    widened per call) to rounding, decode steps (the native kernel) to rounding, and the same greedy
    output; the KV cache stays float32."""
    wide = bfloat16_exact(engine_twin(tiny_model(seed=3)))
    narrow = copy.deepcopy(wide)
    plain, compact = (
        Engine(wide, max_seq_len=128),
        Engine(narrow, max_seq_len=128, weight_dtype=torch.bfloat16),
    )
    assert narrow.lm_head.weight.dtype == torch.bfloat16
    assert all(layer.k.dtype == torch.float32 for layer in compact.cache.layers)
    ids = torch.randint(0, 256, (40,), generator=torch.Generator().manual_seed(3))
    for engine in (plain, compact):
        engine.cache.truncate(0)
    for chunk in (ids[:30], ids[30:31], ids[31:35]):  # a prefill chunk, a decode step, a verify
        expected = wide(chunk, plain.cache, all_logits=True).logits
        got = narrow(chunk, compact.cache, all_logits=True).logits
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    params = SamplingParams(max_new_tokens=48)
    assert (
        compact.complete(ids.tolist(), params=params).token_ids
        == plain.complete(ids.tolist(), params=params).token_ids
    )


def test_a_checkpoint_loads_its_matrices_straight_into_the_weight_dtype(tmp_path: Path) -> None:
    """from_pretrained(weight_dtype=…) reads the matrices narrow: the same tensors, per name, as
    narrowing a float32 load afterwards, and the same logits."""
    save_tiny(tmp_path, seed=7)
    narrow = Engine.from_pretrained(tmp_path, max_seq_len=64, weight_dtype=torch.bfloat16)
    wide = Engine.from_pretrained(tmp_path, max_seq_len=64)
    store_weights(wide.model, torch.bfloat16)
    ours, theirs = narrow.model.state_dict(), wide.model.state_dict()
    assert {n: t.dtype for n, t in ours.items()} == {n: t.dtype for n, t in theirs.items()}
    assert all(torch.equal(ours[n], theirs[n]) for n in ours)
    assert ours["model.embed_tokens.weight"].dtype == torch.float32
    with pytest.raises(EngineError, match="weight_dtype=torch.int8"):
        Engine.from_pretrained(tmp_path, weight_dtype=torch.int8)
