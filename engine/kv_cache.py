"""KV cache allocated up front: global layers hold the whole context, sliding layers a fixed ring.

Keys are stored after RoPE and values after the value scale. A ring holds `window + rollback`
positions, so its memory does not depend on the context length, and the last `rollback` positions
can be taken back (rejected speculative drafts) while every kept query still finds its full window.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from mimo_agent.engine.config import AttentionSpec, ModelConfig
from mimo_agent.engine.errors import EngineError

DEFAULT_ROLLBACK = 4  # MTP verifies 1 + 3 drafts, so up to 3-4 positions may be rejected
_NEVER = -(2**40)  # the position given to a ring slot never written: outside every query's window


class GlobalKV:
    """Every position of the context, in order: slot p holds position p."""

    def __init__(self, spec: AttentionSpec, max_seq: int, dtype: torch.dtype, device: torch.device) -> None:
        self.k = torch.zeros(spec.num_kv_heads, max_seq, spec.head_dim, dtype=dtype, device=device)
        self.v = torch.zeros(spec.num_kv_heads, max_seq, spec.v_head_dim, dtype=dtype, device=device)

    def update(
        self, k: torch.Tensor, v: torch.Tensor, start: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Store k (KV, T, Dk), v (KV, T, Dv) at positions start..; return all keys/values so far and their positions."""
        end = start + k.shape[1]
        self.k[:, start:end] = k
        self.v[:, start:end] = v
        positions = torch.arange(end, device=k.device)
        return self.k[:, :end], self.v[:, :end], positions  # (KV, end, Dk), (KV, end, Dv), (end,)

    def in_place(self, start: int, new: int) -> tuple[int, torch.Tensor | None, int]:
        """Where a native step stores `new` tokens at `start` itself (see `ops.attention_step`): no ring,
        slot = position, keys 0..start + new - 1."""
        return 0, None, start + new

    def holds(self, length: int, cached: int) -> bool:
        return True

    def nbytes(self) -> int:
        return self.k.nbytes + self.v.nbytes


class RingKV:
    """The last `size` positions: position p lives in slot p % size."""

    def __init__(self, spec: AttentionSpec, rollback: int, dtype: torch.dtype, device: torch.device) -> None:
        assert spec.window is not None
        self.window = spec.window
        self.size = spec.window + rollback
        self.k = torch.zeros(spec.num_kv_heads, self.size, spec.head_dim, dtype=dtype, device=device)
        self.v = torch.zeros(spec.num_kv_heads, self.size, spec.v_head_dim, dtype=dtype, device=device)

    def update(
        self, k: torch.Tensor, v: torch.Tensor, start: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return the window before `start` plus the new k/v (and positions); then store the new ones.

        Up to `size - window` new tokens (a decode step, an MTP verify) overwrite only slots older than
        any window they need, so they are stored first and the whole ring is returned in slot order,
        without a copy; slots the queries may not see get positions outside every window.
        """
        new = k.shape[1]
        if new <= self.size - self.window:
            slot = start % self.size
            head = min(new, self.size - slot)  # the new positions before the ring wraps
            self.k[:, slot : slot + head] = k[:, :head]
            self.v[:, slot : slot + head] = v[:, :head]
            self.k[:, : new - head] = k[:, head:]
            self.v[:, : new - head] = v[:, head:]
            return self.k, self.v, _ring_positions(self.size, start + new - 1, k.device)
        first = max(0, start - self.window)
        past = torch.arange(first, start, device=k.device)  # (P,) positions the new queries may need
        slots = past % self.size
        keys = torch.cat((self.k[:, slots], k), dim=1)  # (KV, P + T, Dk)
        values = torch.cat((self.v[:, slots], v), dim=1)  # (KV, P + T, Dv)
        keep = min(new, self.size)  # a chunk longer than the ring only leaves its tail
        tail = torch.arange(start + new - keep, start + new, device=k.device) % self.size
        self.k[:, tail] = k[:, new - keep :]
        self.v[:, tail] = v[:, new - keep :]
        return keys, values, torch.arange(first, start + new, device=k.device)

    def in_place(self, start: int, new: int) -> tuple[int, torch.Tensor | None, int] | None:
        """Where a native step stores `new` tokens at `start` itself (see `ops.attention_step`): position
        p in slot p % size, the whole ring as keys with the positions its slots then hold; None when the
        new tokens would overwrite keys they need (`update` then copies the window out first)."""
        if new > self.size - self.window:
            return None
        return self.size, _ring_positions(self.size, start + new - 1, self.k.device), self.size

    def holds(self, length: int, cached: int) -> bool:
        """After `cached` positions were written, does the ring still hold the window before `length`?"""
        first = max(0, length - self.window)
        return first == length or first >= cached - self.size

    def nbytes(self) -> int:
        return self.k.nbytes + self.v.nbytes


@lru_cache(maxsize=64)
def _ring_positions(size: int, last: int, device: torch.device) -> torch.Tensor:
    """(size,) the position each slot of a ring holds once `last` is written; every sliding layer of a
    step asks for the same one. Read-only: it is shared."""
    slots = torch.arange(size, device=device)
    positions = last - (last - slots) % size
    return positions.masked_fill_(positions < 0, _NEVER)


class KVCache:
    """One cache per decoder layer plus the number of positions written (`length`)."""

    def __init__(
        self,
        config: ModelConfig,
        max_seq_len: int,
        dtype: torch.dtype,
        device: str | torch.device = "cpu",
        rollback: int = DEFAULT_ROLLBACK,
    ) -> None:
        device = torch.device(device)
        self.max_seq_len = max_seq_len
        self.layers: list[GlobalKV | RingKV] = []
        for layer in range(config.num_hidden_layers):
            spec = config.attention(layer)
            if spec.window is None:
                self.layers.append(GlobalKV(spec, max_seq_len, dtype, device))
            else:
                self.layers.append(RingKV(spec, rollback, dtype, device))
        self._length = 0
        # One past the highest position ever written: rolled-back positions still overwrote ring slots.
        self.written = 0
        self._mark: tuple[int, int, list[torch.Tensor]] | None = None  # (length, written, ring copies)

    @property
    def length(self) -> int:
        """Positions held. The model advances it after a forward; `truncate` takes positions back."""
        return self._length

    @length.setter
    def length(self, value: int) -> None:
        self._length = value
        self.written = max(self.written, value)

    def check_room(self, new_tokens: int) -> None:
        if self.length + new_tokens > self.max_seq_len:
            raise EngineError(
                f"context of {self.length + new_tokens} tokens exceeds max_seq_len={self.max_seq_len}"
            )

    def can_truncate_to(self, length: int) -> bool:
        return 0 <= length <= self.length and all(layer.holds(length, self.written) for layer in self.layers)

    def truncate(self, length: int) -> None:
        """Forget every position from `length` on; stale slots are overwritten by later writes."""
        if not self.can_truncate_to(length):
            raise EngineError(
                f"cannot truncate a {self.length}-position cache to {length}: ring buffers moved on"
            )
        if self._mark is not None and length < self._mark[0]:
            self._mark = None  # global slots before the mark will be rewritten
        self._length = length
        if length == 0:
            self.written = 0  # every position will be rewritten before it is read

    def nbytes(self) -> int:
        return sum(layer.nbytes() for layer in self.layers)

    def mark(self) -> None:
        """Remember this length as a restore point: copies of the rings only (a fixed few MB), because
        global layers only append and keep their earlier positions."""
        rings = [t for layer in self.layers if isinstance(layer, RingKV) for t in (layer.k, layer.v)]
        self._mark = (self.length, self.written, [t.clone() for t in rings])

    @property
    def mark_length(self) -> int | None:
        """The restore point's length, while the cache has not gone below it since `mark`."""
        return None if self._mark is None else self._mark[0]

    def restore(self) -> None:
        """Return to the restore point, however far the cache has moved on since."""
        if self._mark is None:
            raise EngineError("no restore point: mark() was not called or the cache went below it")
        length, written, copies = self._mark
        rings = [t for layer in self.layers if isinstance(layer, RingKV) for t in (layer.k, layer.v)]
        for ring, copy in zip(rings, copies, strict=True):
            ring.copy_(copy)
        self._length, self.written = length, written
