"""The MTP heads' own caches, the target hiddens they still need, and drafting.

Each layer k keeps a sliding-window ring. Its entry at position j comes from (h_j, token j+1+k), so it
is *final* once token j+1+k is committed; `done[k]` counts final positions. Drafting at the last target
position m runs layer k over done[k]..m, filling the positions whose token is not committed yet with
this step's earlier drafts (the tail SGLang fills with drafts too); those entries are provisional and
are rewritten next step from done[k] = m - k + 1 on, once their tokens are known. So a rejection never
leaves a draft-derived entry behind, and no explicit MTP rollback is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from mimo_agent.engine.kv_cache import RingKV
from mimo_agent.engine.mtp import MTPHeads

# Gets one draft step's logits (V,); returns (draft token, whether to draft on), or None: no draft here.
Propose = Callable[[torch.Tensor], tuple[int, bool] | None]


class MTPDrafter:
    def __init__(
        self,
        heads: MTPHeads,
        embed: nn.Embedding,
        lm_head: nn.Module,
        layers: int,
        rollback: int,
        chunk: int,
    ) -> None:
        """Drafts with heads 0..`layers`-1. `rollback` ≥ `layers`: ring slack for the provisional tail;
        `chunk`: positions per forward when catching up over a long prompt (bounds the attention mask)."""
        assert 1 <= layers <= len(heads) and rollback >= layers, (layers, len(heads), rollback)
        self.heads, self.embed, self.lm_head, self.chunk = heads, embed, lm_head, chunk
        self.rollback = rollback
        weight = embed.weight  # activations' dtype (matrix weights may be stored narrower)
        spec = heads.config.sliding
        self.rings = [RingKV(spec, rollback, weight.dtype, weight.device) for _ in range(layers)]
        self.done = [0] * layers
        self.written = [0] * layers  # one past the highest position written into each ring
        self.hidden = weight.new_zeros(0, heads.config.hidden_size)  # (P, D) target hiddens …
        self.hidden_start = 0  # … for positions hidden_start.. hidden_start + P

    @property
    def hidden_end(self) -> int:
        return self.hidden_start + self.hidden.shape[0]

    def restart(self, position: int) -> None:
        """Forget everything and resume at `position` with empty rings (the hiddens before it are lost)."""
        for ring in self.rings:
            ring.k.zero_()
            ring.v.zero_()
        self.done = [position] * len(self.rings)
        self.written = [position] * len(self.rings)
        self.hidden, self.hidden_start = self.hidden[:0], position

    def observe(self, hidden: torch.Tensor, start: int) -> None:
        """Target hiddens (T, D) before the final norm for positions start.. (right after the known ones)."""
        assert start == self.hidden_end, (start, self.hidden_end)
        self.hidden = torch.cat((self.hidden, hidden))

    def truncate(self, length: int) -> None:
        """The target cache went back to `length` positions: tokens from `length` on may change.

        A layer whose ring no longer holds the window before its restart point (or whose hiddens are
        gone) resumes at the earliest known hidden with an empty ring: its drafts are then approximate
        for a window's worth of positions, which costs acceptance, never correctness.
        """
        if not self.hidden_start <= length <= self.hidden_end:
            self.restart(length)
            return
        self.hidden = self.hidden[: length - self.hidden_start]
        for k, ring in enumerate(self.rings):
            keep = min(self.done[k], max(0, length - 1 - k))
            if keep < self.hidden_start or not ring.holds(keep, self.written[k]):
                ring.k.zero_()
                ring.v.zero_()
                keep = self.written[k] = self.hidden_start
            self.done[k] = keep

    def catch_up(self, tokens: Sequence[int]) -> None:
        """Finalise every layer over the positions whose hidden and shifted token are both known, short
        of the last hidden (drafting reads its output there)."""
        for k in range(len(self.rings)):
            end = min(self.hidden_end - 1, len(tokens) - 1 - k)
            if end > self.done[k]:
                self._run(k, self.done[k], end, tokens, ())
                self.done[k] = end
        self._trim()

    def draft(self, tokens: Sequence[int], steps: int, propose: Propose) -> list[int]:
        """Up to `steps` drafts after `tokens` (every committed id; the target holds all but the last)."""
        last = self.hidden_end - 1  # m: the last position with a target hidden
        assert last == len(tokens) - 2, (last, len(tokens))
        drafts: list[int] = []
        for k in range(min(steps, len(self.rings))):
            normed = self._run(k, self.done[k], last + 1, tokens, drafts)
            # positions after last - k read drafts: provisional, rewritten next step (after a restart there
            # may be fewer hiddens than heads: then every position the layer holds is provisional)
            self.done[k] = max(self.hidden_start, last - k + 1)
            proposal = propose(self.lm_head(normed[-1]).float())
            if proposal is None:
                break
            drafts.append(proposal[0])
            if not proposal[1]:
                break
        self._trim()
        return drafts

    def _run(
        self, k: int, start: int, end: int, tokens: Sequence[int], drafts: Sequence[int]
    ) -> torch.Tensor:
        """Layer k over positions start..end-1 in chunks; token j+1+k comes from `tokens`, else `drafts`."""
        assert self.hidden_start <= start < end <= self.hidden_end, (self.hidden_start, start, end)
        assert self.rings[k].holds(start, self.written[k]), (k, start, self.written[k])
        device = self.hidden.device
        for first in range(start, end, self.chunk):
            last = min(first + self.chunk, end)
            hidden = self.hidden[first - self.hidden_start : last - self.hidden_start]  # (T, D)
            ids = _slice(tokens, drafts, first + 1 + k, last + 1 + k)  # not [*tokens, *drafts]: O(context)
            shifted = torch.tensor(ids, dtype=torch.long, device=device)  # (T,)
            normed = self.heads.run(k, hidden, shifted, first, self.rings[k], self.embed)
        self.written[k] = max(self.written[k], end)
        return normed

    def _trim(self) -> None:
        """Drop hiddens no layer will read again, keeping `rollback` spare positions for prefix reuse."""
        keep_from = max(self.hidden_start, min(self.done) - self.rollback)
        self.hidden = self.hidden[keep_from - self.hidden_start :]
        self.hidden_start = keep_from


def _slice(tokens: Sequence[int], drafts: Sequence[int], start: int, stop: int) -> list[int]:
    """Items start..stop-1 of tokens followed by drafts, copying only those."""
    n = len(tokens)
    return [*tokens[start:stop], *drafts[max(0, start - n) : max(0, stop - n)]]
