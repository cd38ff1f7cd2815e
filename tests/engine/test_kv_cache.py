"""KV cache: memory layout, truncation (rejected drafts) and what a ring buffer can and cannot give back."""

from __future__ import annotations

import pytest
import torch

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.kv_cache import DEFAULT_ROLLBACK, GlobalKV, KVCache, RingKV
from mimo_agent.engine.model import MiMoForCausalLM
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import tiny_model

WINDOW = 16


def test_ring_memory_does_not_grow_with_context(twin: MiMoForCausalLM) -> None:
    small, large = KVCache(twin.config, 100, torch.float32), KVCache(twin.config, 10_000, torch.float32)
    for a, b in zip(small.layers, large.layers, strict=True):
        if isinstance(a, RingKV):
            assert a.nbytes() == b.nbytes() and a.size == WINDOW + DEFAULT_ROLLBACK
        else:
            assert isinstance(a, GlobalKV) and b.nbytes() == 100 * a.nbytes()


def test_cache_bytes_equal_the_config_formula(twin: MiMoForCausalLM) -> None:
    cache = KVCache(twin.config, 4096, torch.float32)
    assert cache.nbytes() == twin.config.kv_bytes(4096, 4, ring_extra=DEFAULT_ROLLBACK - 1)


def run(model: MiMoForCausalLM, cache: KVCache, ids: torch.Tensor) -> torch.Tensor:
    return model(ids, cache, all_logits=True).logits


def test_truncate_then_continue_equals_a_cold_run(twin: MiMoForCausalLM) -> None:
    """Rejected speculative drafts: write 4 positions, take them back, continue with other tokens."""
    gen = torch.Generator().manual_seed(7)
    prefix, drafts, actual = (torch.randint(0, 256, (n,), generator=gen) for n in (50, DEFAULT_ROLLBACK, 6))
    cache = KVCache(twin.config, 128, torch.float32)
    run(twin, cache, prefix)
    run(twin, cache, drafts)
    assert cache.can_truncate_to(50)
    cache.truncate(50)
    warm = run(twin, cache, actual)
    cold = run(twin, KVCache(twin.config, 128, torch.float32), torch.cat((prefix, actual)))[50:]
    assert torch.allclose(warm, cold, atol=1e-5, rtol=0)
    assert cache.length == 56


def test_ring_refuses_to_rewind_past_its_spare_slots(twin: MiMoForCausalLM) -> None:
    cache = KVCache(twin.config, 128, torch.float32)
    run(twin, cache, torch.arange(60))
    assert cache.can_truncate_to(60 - DEFAULT_ROLLBACK)
    assert not cache.can_truncate_to(60 - DEFAULT_ROLLBACK - 1)
    assert cache.can_truncate_to(0)
    with pytest.raises(EngineError, match="cannot truncate"):
        cache.truncate(30)
    assert cache.length == 60


def test_short_context_can_rewind_anywhere(twin: MiMoForCausalLM) -> None:
    """While nothing has been overwritten, every earlier window is still in the ring."""
    cache = KVCache(twin.config, 128, torch.float32)
    run(twin, cache, torch.arange(WINDOW + DEFAULT_ROLLBACK))
    assert all(cache.can_truncate_to(n) for n in range(WINDOW + DEFAULT_ROLLBACK + 1))


def test_global_only_model_rewinds_anywhere() -> None:
    model = engine_twin(tiny_model(seed=2, num_hidden_layers=2, layer_types=["full_attention"] * 2))
    cache = KVCache(model.config, 128, torch.float32)
    ids = torch.arange(1, 81)
    run(model, cache, ids)
    cache.truncate(10)
    warm = run(model, cache, ids[10:20])
    cold = run(model, KVCache(model.config, 128, torch.float32), ids[:20])[10:]
    assert torch.allclose(warm, cold, atol=1e-5, rtol=0)


def test_context_limit_is_an_error(twin: MiMoForCausalLM) -> None:
    cache = KVCache(twin.config, 32, torch.float32)
    run(twin, cache, torch.arange(30))
    with pytest.raises(EngineError, match="max_seq_len=32"):
        run(twin, cache, torch.arange(3))


def test_kv_bytes_grow_by_the_per_token_figure(twin: MiMoForCausalLM) -> None:
    config: ModelConfig = twin.config
    assert config.kv_bytes(10_000, 2) - config.kv_bytes(5_000, 2) == 5_000 * config.kv_bytes_per_token(2)


def test_restore_point_survives_appends_but_not_rewinds_below_it(twin: MiMoForCausalLM) -> None:
    gen = torch.Generator().manual_seed(8)
    prompt, output, other = (torch.randint(0, 256, (n,), generator=gen) for n in (30, 40, 5))
    cache = KVCache(twin.config, 128, torch.float32)
    run(twin, cache, prompt)
    cache.mark()
    run(twin, cache, output)
    assert cache.mark_length == 30 and not cache.can_truncate_to(30)
    cache.restore()
    warm = run(twin, cache, other)
    cold = run(twin, KVCache(twin.config, 128, torch.float32), torch.cat((prompt, other)))[30:]
    assert torch.allclose(warm, cold, atol=1e-5, rtol=0)
    cache.truncate(33)
    assert cache.mark_length == 30
    cache.truncate(0)
    assert cache.mark_length is None
    with pytest.raises(EngineError, match="no restore point"):
        cache.restore()
