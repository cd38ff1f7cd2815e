"""Streaming token ids to text without ever emitting half a character.

With byte-level BPE one character can span several tokens, so decoding each token alone yields
U+FFFD fragments. Following vLLM/TGI, only a short window is re-decoded per token: the text of
`ids[prefix:read]` (already emitted) is subtracted from that of `ids[prefix:]`, and the difference is
released only once it no longer ends in a replacement character. `prefix` and `read` always sit on
character boundaries, so the concatenated deltas equal `decode(all ids)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

REPLACEMENT_CHAR = "\ufffd"


class IncrementalDetokenizer:
    def __init__(self, decode: Callable[[Sequence[int]], str]) -> None:
        self._decode = decode
        self._ids: list[int] = []
        self._prefix_offset = 0  # start of the window re-decoded for context
        self._read_offset = 0  # end of the ids whose text has been emitted

    @property
    def token_ids(self) -> list[int]:
        return list(self._ids)

    def push(self, token_id: int) -> str:
        """Add one token; return the newly completed text (possibly empty while a character is split)."""
        self._ids.append(token_id)
        prefix_text = self._decode(self._ids[self._prefix_offset : self._read_offset])
        new_text = self._decode(self._ids[self._prefix_offset :])
        if len(new_text) <= len(prefix_text) or new_text.endswith(REPLACEMENT_CHAR):
            return ""
        self._prefix_offset, self._read_offset = self._read_offset, len(self._ids)
        return new_text[len(prefix_text) :]

    def flush(self) -> str:
        """Release whatever is held back (an unfinished character decodes as U+FFFD, as in `decode`)."""
        prefix_text = self._decode(self._ids[self._prefix_offset : self._read_offset])
        new_text = self._decode(self._ids[self._prefix_offset :])
        self._prefix_offset = self._read_offset = len(self._ids)
        return new_text[len(prefix_text) :]
