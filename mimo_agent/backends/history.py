"""Which leading messages of a conversation are unchanged since it was last seen.

The agent's history is append-only between compactions, so whatever is derived from it per step
(token counts, rendered prompts, trajectory and session records) can be updated for the new messages
only instead of being recomputed from the whole history.
"""

from __future__ import annotations

from collections.abc import Sequence

from mimo_agent.backends.base import Message


class HistoryTracker:
    def __init__(self) -> None:
        self._seen: list[Message] = []  # shallow copies: a message edited in place counts as changed

    def __len__(self) -> int:
        return len(self._seen)

    def update(self, messages: Sequence[Message]) -> int:
        """Remember `messages`; return how many leading ones are unchanged since the last call."""
        seen = self._seen
        n = min(len(seen), len(messages))
        # The usual case (nothing changed) is one comparison in C; identical values short-cut it.
        same = seen[:n] == list(messages[:n])
        kept = n if same else next(i for i in range(n) if seen[i] != messages[i])
        del seen[kept:]
        seen.extend(dict(m) for m in messages[kept:])
        return kept
