"""Decode weight layout: same names, shapes and outputs; only the strides change."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mimo_agent.engine import native, weight_layout
from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.weight_layout import decode_layout
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import tiny_model


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
