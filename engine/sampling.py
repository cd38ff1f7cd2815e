"""Turning one position's logits into the next token, and cutting the text at stop strings.

`Sampler.probs` exposes the exact distribution that `sample` draws from, so speculative decoding can
compare target and draft probabilities. Temperature 0 is greedy: a one-hot distribution on the argmax;
so is any temperature below `GREEDY_BELOW`: greedy in effect, and dividing by one that small can overflow
the logits to inf and the probabilities to NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

GREEDY_BELOW = 1e-5  # temperatures under this sample as greedy (1e-300 turned logits into NaN)


@dataclass(slots=True)
class SamplingParams:
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0  # 0 keeps the whole vocabulary
    max_new_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    stop_token_ids: list[int] = field(default_factory=list)
    seed: int | None = None

    def __post_init__(self) -> None:
        if not _is_number(self.temperature) or not math.isfinite(self.temperature) or self.temperature < 0:
            raise ValueError(
                f"SamplingParams.temperature must be a finite number >= 0; got {self.temperature!r}"
            )
        if not _is_number(self.top_p) or not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingParams.top_p must be in (0, 1]; got {self.top_p!r}")
        if not _is_int(self.top_k) or self.top_k < 0:
            raise ValueError(f"SamplingParams.top_k must be an integer >= 0 (0 = off); got {self.top_k!r}")
        if not _is_int(self.max_new_tokens) or self.max_new_tokens < 1:
            raise ValueError(
                f"SamplingParams.max_new_tokens must be an integer >= 1; got {self.max_new_tokens!r}"
            )
        if not isinstance(self.stop, list) or not all(isinstance(s, str) and s for s in self.stop):
            raise ValueError(f"SamplingParams.stop must be a list of non-empty strings; got {self.stop!r}")
        if not isinstance(self.stop_token_ids, list) or not all(
            _is_int(i) and i >= 0 for i in self.stop_token_ids
        ):
            raise ValueError(
                f"SamplingParams.stop_token_ids must be a list of integers >= 0; got {self.stop_token_ids!r}"
            )
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            raise ValueError(f"SamplingParams.seed must be None or an integer >= 0; got {self.seed!r}")

    @property
    def greedy(self) -> bool:
        return self.temperature < GREEDY_BELOW


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Sampler:
    """Draws tokens for one request; with a seed, the same logits give the same tokens on every run."""

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self._generator: torch.Generator | None = None

    def _generator_for(self, device: torch.device) -> torch.Generator:
        # Created lazily because a generator is bound to the device of the logits it samples from.
        if self._generator is None:
            self._generator = torch.Generator(device=device)
            if self.params.seed is None:
                self._generator.seed()
            else:
                self._generator.manual_seed(self.params.seed)
        return self._generator

    def probs(self, logits: torch.Tensor) -> torch.Tensor:
        """(vocab,) float32 probabilities after temperature, top-k and top-p; one-hot argmax when greedy."""
        assert logits.dim() == 1, logits.shape
        logits = logits.float()
        if self.params.greedy:
            return torch.zeros_like(logits).scatter_(0, logits.argmax().view(1), 1.0)
        logits = logits / self.params.temperature
        if 0 < self.params.top_k < logits.numel():
            top = torch.topk(logits, self.params.top_k)
            logits = torch.full_like(logits, -math.inf).scatter_(0, top.indices, top.values)
        probs = torch.softmax(logits, dim=-1)
        if self.params.top_p < 1:
            probs = _top_p(probs, self.params.top_p)
        return probs

    def sample(self, logits: torch.Tensor) -> int:
        if self.params.greedy:
            return int(logits.argmax())
        return self.draw(self.probs(logits))

    def draw(self, probs: torch.Tensor) -> int:
        """One id from an explicit distribution (speculative decoding's drafts and residuals)."""
        return int(torch.multinomial(probs, 1, generator=self._generator_for(probs.device)))

    def uniform(self, device: torch.device) -> float:
        """A U[0, 1) draw from the same generator (speculative decoding's accept test)."""
        return float(torch.rand((), generator=self._generator_for(device), device=device))


def _top_p(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose mass reaches `top_p`, renormalised."""
    sorted_probs, order = torch.sort(probs, descending=True)
    mass_before = (
        torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    )  # (vocab,) mass of strictly likelier tokens
    sorted_probs = sorted_probs.masked_fill(mass_before >= top_p, 0.0)
    kept = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
    return kept / kept.sum()


class StopMatcher:
    """Cuts streamed text at the first stop string, holding back text that may be the start of one.

    `push` returns the text safe to emit and whether a stop string was hit; the stop string itself and
    anything after it are never emitted. At the end of a generation that hit no stop, `flush` releases
    the held-back tail.
    """

    def __init__(self, stop_strings: list[str]) -> None:
        if not all(isinstance(s, str) and s for s in stop_strings):
            raise ValueError(f"stop strings must be non-empty strings; got {stop_strings!r}")
        self.stop_strings = list(stop_strings)
        self._held = ""
        self.stopped = False

    def push(self, delta: str) -> tuple[str, bool]:
        if self.stopped:
            return "", True
        text = self._held + delta
        hits = [i for i in (text.find(s) for s in self.stop_strings) if i >= 0]
        if hits:
            self._held, self.stopped = "", True
            return text[: min(hits)], True
        keep = self._partial_stop_length(text)
        self._held = text[len(text) - keep :]
        return text[: len(text) - keep], False

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held

    def _partial_stop_length(self, text: str) -> int:
        """Length of the longest suffix of `text` that is a proper prefix of some stop string."""
        longest = 0
        for stop in self.stop_strings:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest
