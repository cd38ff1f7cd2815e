"""Ring buffers after rolled-back writes: a rejected draft's slot must never be read as an older position."""

from __future__ import annotations

import torch

from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.model import MiMoForCausalLM

WINDOW, ROLLBACK = 16, 4  # the tiny model's window; ring size 20


def filled(twin: MiMoForCausalLM, positions: int) -> KVCache:
    cache = KVCache(twin.config, 64, torch.float32, rollback=ROLLBACK)
    twin(torch.arange(positions) % 200, cache)
    return cache


def test_a_second_truncation_sees_slots_the_rolled_back_positions_overwrote(twin: MiMoForCausalLM) -> None:
    """Regression: after writing positions 0..23 and truncating to 21 (three rejected drafts), position
    23 had overwritten slot 3. Truncating further to 19 needs position 3 and must be refused; judging
    the ring by the current length (21) instead of the highest position written (24) allowed it."""
    cache = filled(twin, 24)
    cache.truncate(21)
    assert cache.can_truncate_to(20)  # needs positions 4..19: all intact
    assert not cache.can_truncate_to(19)  # needs position 3, whose slot now holds 23


def test_restore_returns_the_written_mark_with_the_rings(twin: MiMoForCausalLM) -> None:
    cache = filled(twin, 24)
    cache.mark()
    twin(torch.arange(8), cache)  # positions 24..31 overwrite more slots
    cache.restore()
    assert cache.length == 24 and cache.written == 24
    assert cache.can_truncate_to(20) and not cache.can_truncate_to(19)
    cache.truncate(0)
    assert cache.written == 0
