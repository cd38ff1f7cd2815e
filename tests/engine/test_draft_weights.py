"""Int8 draft weights: close to the float weights, the originals untouched, output still the target's."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine import draft_weights
from mimo_agent.engine import engine as engine_module
from mimo_agent.engine.draft_weights import Int8Linear, int8_drafting
from mimo_agent.engine.engine import Engine
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.native import library, ops
from mimo_agent.engine.sampling import SamplingParams
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import tiny_model


@pytest.mark.parametrize("rows", [1, 4, 12, 80])  # 12: kernel passes of 8 rows; 80: dequantised, torch
@pytest.mark.parametrize("in_features", [64, 40])
def test_int8_linear_is_the_per_row_scaled_weight(rows: int, in_features: int) -> None:
    gen = torch.Generator().manual_seed(rows)
    weight = torch.randn(96, in_features, generator=gen)
    layer = Int8Linear(weight)
    assert layer.weight.dtype == torch.int8 and layer.scale.shape == (96,)
    dequantised = layer.weight.float() * layer.scale[:, None]
    assert (dequantised - weight).abs().max() <= layer.scale.max() / 2 + 1e-7  # half a step at most
    x = torch.randn(rows, in_features, generator=gen)
    torch.testing.assert_close(layer(x), F.linear(x, dequantised), rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(library() is None, reason="no C compiler: no native kernel here")
def test_the_int8_kernel_runs_for_few_rows() -> None:
    layer = Int8Linear(torch.randn(32, 64))
    x = torch.randn(3, 64)
    assert ops.few_rows_linear(x, layer.weight, layer.scale) is not None
    assert ops.few_rows_linear(torch.randn(9, 64), layer.weight, layer.scale) is None
    assert ops.few_rows_linear(x, layer.weight) is None  # int8 without its scales: refused
    together = layer(x)
    assert all(torch.equal(layer(x[r : r + 1])[0], together[r]) for r in range(3))


def test_drafting_copies_leave_the_heads_and_the_model_alone() -> None:
    model = engine_twin(tiny_model(seed=5))
    torch.manual_seed(5)
    heads = MTPHeads(model.config, 2).eval()
    before = {name: t.clone() for name, t in heads.state_dict().items()}
    draft, head = int8_drafting(heads, model.lm_head)
    assert all(torch.equal(t, before[name]) for name, t in heads.state_dict().items())
    assert isinstance(heads.layers[0].eh_proj, nn.Linear) and isinstance(model.lm_head, nn.Linear)
    linears = [m for m in draft.modules() if isinstance(m, nn.Linear)]
    assert not linears and isinstance(head, Int8Linear)
    assert draft.layers[0].enorm.weight is heads.layers[0].enorm.weight  # small tensors are shared
    assert draft_weights.int8_linears(nn.Sequential(nn.Linear(4, 4, bias=True))) == 0  # a bias: kept


def test_int8_drafts_keep_greedy_output_and_are_the_default() -> None:
    model = engine_twin(tiny_model(seed=6))
    torch.manual_seed(6)
    heads = MTPHeads(model.config, 3).eval()
    engine = Engine(model, max_seq_len=256, mtp=heads)
    draft_heads, draft_head = engine.draft_modules()
    assert isinstance(draft_head, Int8Linear) and draft_heads is not heads
    prompt, params = [5, 17, 99, 3, 42, 7, 250, 31], SamplingParams(max_new_tokens=60)
    plain = engine.complete(prompt, params=params, mtp_steps=0)
    spec = engine.complete(prompt, params=params, mtp_steps=3, mtp_adaptive=False)
    assert spec.token_ids == plain.token_ids and spec.stats.speculation.drafted > 0
    own = Engine(model, max_seq_len=256, mtp=heads, draft_weights="model")
    assert own.draft_modules() == (heads, model.lm_head)
    with pytest.raises(EngineError, match="draft_weights='fp4'"):
        Engine(model, mtp=heads, draft_weights="fp4")  # type: ignore[arg-type]


def test_int8_drafts_only_where_the_int8_kernel_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Elsewhere each draft would dequantise whole matrices: the model's own weights draft instead."""
    model = engine_twin(tiny_model(seed=7))
    torch.manual_seed(7)
    heads = MTPHeads(model.config, 1).eval()
    monkeypatch.setattr(engine_module, "library", lambda: None)
    assert Engine(model, mtp=heads, max_seq_len=64).draft_modules() == (heads, model.lm_head)
    narrow = engine_twin(tiny_model(seed=7)).to(torch.bfloat16)  # bfloat16 activations
    narrow_heads = MTPHeads(narrow.config, 1).to(torch.bfloat16).eval()
    monkeypatch.undo()
    assert Engine(narrow, mtp=narrow_heads, max_seq_len=64).draft_modules() == (narrow_heads, narrow.lm_head)


def test_an_all_zero_row_quantises_to_zero() -> None:
    weight = torch.randn(4, 32)
    weight[2] = 0.0
    layer = Int8Linear(weight)
    assert layer.scale[2] == 1.0 and not layer.weight[2].any()
    assert not layer(torch.randn(1, 32))[0, 2]
