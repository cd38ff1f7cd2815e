"""Column-major wide weights: same names, shapes and outputs; only the strides change."""

from __future__ import annotations

import torch
from torch import nn

from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.weight_layout import column_major_wide_linears
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import tiny_model


def test_wide_linears_become_column_major_with_identical_outputs() -> None:
    model = engine_twin(tiny_model(seed=0))
    ids = torch.tensor([3, 1, 4, 1, 5])
    names = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    before = model(ids, KVCache(model.config, 16, torch.float32), all_logits=True).logits
    changed = column_major_wide_linears(model)
    after = model(ids, KVCache(model.config, 16, torch.float32), all_logits=True).logits
    assert changed > 0 and column_major_wide_linears(model) == 0  # idempotent
    assert {name: tuple(t.shape) for name, t in model.state_dict().items()} == names
    assert torch.allclose(before, after, atol=1e-5)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            out_features, in_features = module.weight.shape
            wide = out_features >= 2 * in_features
            assert module.weight.is_contiguous() != wide, module


def test_a_weight_tied_to_the_embedding_keeps_its_rows() -> None:
    embed = nn.Embedding(64, 8)
    head = nn.Linear(8, 64, bias=False)
    head.weight = embed.weight
    wrapper = nn.ModuleDict({"embed": embed, "head": head})
    assert column_major_wide_linears(wrapper) == 0 and embed.weight.is_contiguous()
