"""The hook through which callers (the tool-calling layer's grammars) shape each next-token distribution.

The engine knows nothing about grammars: it only calls these methods. A processor is stateful and
follows the committed token stream, so speculative decoding can ask it about draft tokens and take
them back with `rollback` when the target rejects them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class LogitsProcessor(Protocol):
    def process(self, logits: torch.Tensor) -> torch.Tensor:
        """Mask or reshape the logits for the next position; `logits` is (vocab,) float. Must not change state."""
        ...

    def accept(self, token_id: int) -> bool:
        """Advance past `token_id`. Returns False (and leaves state unchanged) when the token is not allowed."""
        ...

    def rollback(self, num_tokens: int) -> None:
        """Undo the last `num_tokens` accepted tokens (rejected speculative drafts)."""
        ...

    def is_finished(self) -> bool:
        """True when the processor admits nothing more (e.g. a grammar reached its end): generation stops."""
        ...
