"""Grammar masks at decode time: one matcher per request, for the engine's processor protocol and for
transformers' `generate`.

Filling the mask leaves the matcher unchanged; only `accept` advances it, and `rollback` takes back
tokens (speculative drafts the target rejected). xgrammar ≥ 0.2 keeps an unbounded rollback history,
so any MTP draft length can be undone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import transformers
import xgrammar as xgr

from mimo_agent.toolcalls.grammar import GrammarError


class GrammarRejectedToken(GrammarError):
    """A token the grammar does not allow reached the matcher (another processor or sampler broke the mask)."""


class GrammarLogitsProcessor:
    """The engine's stateful `LogitsProcessor` (engine/logits.py) backed by an xgrammar matcher.

    Logits may be wider than the grammar's vocabulary (a padded lm_head): the extra ids are masked.
    """

    def __init__(self, compiled: xgr.CompiledGrammar):
        self.vocab_size = compiled.tokenizer_info.vocab_size
        self._matcher = xgr.GrammarMatcher(compiled)
        self._bitmask = xgr.allocate_token_bitmask(1, self.vocab_size)
        self._device_bitmask: torch.Tensor | None = None
        self._stops = torch.tensor(self._matcher.stop_token_ids)

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        """Set disallowed entries of `logits` (vocab,) to -inf, in place, and return it."""
        assert logits.dim() == 1, f"expected (vocab,) logits, got shape {tuple(logits.shape)}"
        assert not self._matcher.is_terminated(), "process() called after the grammar finished"
        if logits.shape[0] > self.vocab_size:
            logits[self.vocab_size :] = float("-inf")
        if self._matcher.fill_next_token_bitmask(self._bitmask):
            xgr.apply_token_bitmask_inplace(
                logits.unsqueeze(0), self._on(logits.device), vocab_size=self.vocab_size
            )
        return logits

    def accept(self, token_id: int) -> bool:
        return 0 <= token_id < self.vocab_size and self._matcher.accept_token(token_id)

    def rollback(self, num_tokens: int) -> None:
        self._matcher.rollback(num_tokens)

    def is_finished(self) -> bool:
        return self._matcher.is_terminated()

    def only_stop_tokens(self, logits: torch.Tensor) -> torch.Tensor:
        """After the grammar finished: allow only its stop tokens (for callers that keep sampling the row)."""
        kept = logits[self._stops].clone()
        logits.fill_(float("-inf"))
        logits[self._stops] = kept
        return logits

    def _on(self, device: torch.device) -> torch.Tensor:
        if device.type == "cpu":
            return self._bitmask
        if self._device_bitmask is None or self._device_bitmask.device != device:
            self._device_bitmask = torch.empty_like(self._bitmask, device=device)
        return self._device_bitmask.copy_(self._bitmask, non_blocking=True)


class TransformersGrammarProcessor(transformers.LogitsProcessor):
    """Constrains `model.generate(..., logits_processor=[this])` of any transformers causal LM.

    Give one grammar per batch row (or one grammar and `batch_size`). One instance per `generate` call:
    the first call records the prompt length, later calls feed each row's newly sampled token to that
    row's matcher. A row whose grammar finished may only repeat a stop token (generate stops or pads it).
    Put it last among processors so nothing re-enables a masked token.
    """

    def __init__(self, grammars: xgr.CompiledGrammar | Sequence[xgr.CompiledGrammar], batch_size: int = 1):
        per_row = [grammars] * batch_size if isinstance(grammars, xgr.CompiledGrammar) else list(grammars)
        self.rows = [GrammarLogitsProcessor(g) for g in per_row]
        self._seen: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self.rows):
            raise GrammarError(
                f"batch size: processor built for {len(self.rows)} rows, generate has {input_ids.shape[0]}"
            )
        if self._seen is None:
            self._seen = input_ids.shape[1]
        elif input_ids.shape[1] != self._seen + 1:
            raise GrammarError(
                f"input_ids: expected {self._seen + 1} tokens (one new), got {input_ids.shape[1]}; "
                "use a fresh processor per generate call"
            )
        else:
            self._seen += 1
            for row, proc in enumerate(self.rows):
                token = int(input_ids[row, -1])
                if not proc.is_finished() and not proc.accept(token):
                    raise GrammarRejectedToken(f"row {row}: token {token} is not allowed by the grammar here")
        for row, proc in enumerate(self.rows):
            if proc.is_finished():
                proc.only_stop_tokens(scores[row])
            else:
                proc.process(scores[row])
        return scores
