"""Lossless speculative decoding with the MTP heads: draft k tokens, verify them in one target forward.

Greedy: a draft is kept while it equals the target's argmax, then the target's own token follows, so
the output is plain greedy decoding token for token. Sampling: draft d ~ q is kept with probability
min(1, p(d)/q(d)), else the token is drawn from norm(max(p - q, 0)); every committed token is then
distributed as the target's p (Leviathan et al. 2023). p and q are the sampler's distributions after
the logits processors, temperature, top-k and top-p, so grammars constrain drafts and verification alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.logits import LogitsProcessor
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp_draft import MTPDrafter
from mimo_agent.engine.sampling import Sampler


@dataclass(slots=True)
class SpeculationStats:
    """Per generation: tokens committed per verify step (the "accepted length", 1..k+1) and timings."""

    draft_tokens: int  # k: drafts proposed per step at most
    steps: int = 0
    plain_steps: int = 0  # single-token forwards taken while the adaptive policy had drafting off
    drafted: int = 0
    histogram: list[int] = field(default_factory=list)  # histogram[n] = steps that committed n tokens
    draft_seconds: float = 0.0
    verify_seconds: float = 0.0

    @property
    def accepted_length(self) -> float:
        return sum(n * count for n, count in enumerate(self.histogram)) / self.steps if self.steps else 0.0

    def record(self, step: SpeculativeStep) -> None:
        n = len(step.tokens)
        self.histogram.extend([0] * (n + 1 - len(self.histogram)))
        self.histogram[n] += 1
        self.steps += 1
        self.drafted += step.drafted
        self.draft_seconds += step.draft_seconds
        self.verify_seconds += step.verify_seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "draft_tokens": self.draft_tokens,
            "steps": self.steps,
            "plain_steps": self.plain_steps,
            "drafted": self.drafted,
            "accepted_length": round(self.accepted_length, 4),
            "accepted_length_histogram": {str(n): c for n, c in enumerate(self.histogram) if c},
            "draft_seconds": self.draft_seconds,
            "verify_seconds": self.verify_seconds,
        }


# A draft plus one more verified position, as a fraction of a plain decode step: measured with
# evals/bench_mtp.py on the bench's mini MiMo (CPU, k = 3, int8 drafts: 2.4 ms a draft plus 2.3 ms a
# verified position against 14.8 ms a plain step with float32 weights, 0.32; 2.4 + 1.7 ms against
# 9.2 ms with bfloat16 weights, 0.45).
DRAFT_COST = 0.4
PROBE_GAPS = (8, 64)  # plain tokens between probes: the first gap, doubled per failed probe up to the last


@dataclass(slots=True)
class DraftPolicy:
    """Chooses each step's draft count from recent acceptance, so poor drafts stop costing time.

    Each draft is taken to be accepted with probability a (decayed counts of accepted / verified drafts):
    k drafts then commit 1 + a + … + a^k tokens for 1 + cost·k plain steps, and the policy picks the k
    with the most tokens per step, 0 (plain decoding) when no k beats 1. While at 0 it probes with one
    draft after a gap of plain tokens that doubles while probes fail, so drafts that start to agree
    again bring k back. Output does not depend on k: greedy stays plain greedy and sampling keeps the
    target's distribution.
    """

    max_steps: int
    cost: float = DRAFT_COST
    decay: float = 0.8  # weight of the previous estimate per verify step
    accepted: float = 1.8  # optimistic prior (0.9 per draft, worth two drafts): start with every head
    verified: float = 2.0
    plain_run: int = 0
    probe_gap: int = PROBE_GAPS[0]
    probing: bool = False

    def next_steps(self) -> int:
        rate = self.accepted / self.verified if self.verified else 0.0
        best, best_speed, expected = 0, 1.0, 1.0
        for k in range(1, self.max_steps + 1):
            expected += rate**k
            if expected / (1 + self.cost * k) > best_speed:
                best, best_speed = k, expected / (1 + self.cost * k)
        self.probing = best == 0 and self.plain_run >= self.probe_gap
        return 1 if self.probing else best

    def record(self, step: SpeculativeStep) -> None:
        """A verify step: its accepted drafts were verified, and so was the first rejected one."""
        accepted = min(len(step.tokens) - 1, step.drafted)
        self.accepted = self.accepted * self.decay + accepted
        self.verified = self.verified * self.decay + accepted + (accepted < step.drafted)
        if self.probing:
            self.probe_gap = PROBE_GAPS[0] if accepted else min(2 * self.probe_gap, PROBE_GAPS[1])
        self.plain_run = 0

    def record_plain(self) -> None:
        self.plain_run += 1


@dataclass(slots=True)
class SpeculativeStep:
    tokens: list[int]  # newly committed ids: accepted drafts, then the target's own token
    drafted: int
    draft_seconds: float
    verify_seconds: float


def speculative_decode(
    target: MiMoForCausalLM,
    cache: KVCache,
    drafter: MTPDrafter,
    tokens: Sequence[int],
    steps: int,
    sampler: Sampler,
    processors: Sequence[LogitsProcessor] = (),
    stop_ids: frozenset[int] | set[int] = frozenset(),
) -> SpeculativeStep:
    """Commit 1..steps+1 tokens after `tokens` (every committed id; the cache holds all but the last).

    `steps` is already capped by the caller's token budget and cache room. The step ends early at a
    stop id or when a processor finishes, so nothing after either is committed. On return the cache,
    the drafter and every processor stand exactly where a run that never saw the rejected drafts stands.
    """
    assert cache.length == len(tokens) - 1 == drafter.hidden_end, (cache.length, len(tokens))
    started = time.perf_counter()
    qs: list[torch.Tensor] = []  # the draft distribution behind each draft (sampling only)

    def propose(logits: torch.Tensor) -> tuple[int, bool] | None:
        logits = _process(logits, processors)
        q = None if sampler.params.greedy else sampler.probs(logits)
        token = int(logits.argmax()) if q is None else sampler.draw(q)
        if not _advance(processors, token):
            return None
        if q is not None:
            qs.append(q)
        # A stop id or a finished grammar stays a draft (dropping it would bias the proposal), the last.
        return token, token not in stop_ids and not any(p.is_finished() for p in processors)

    with torch.inference_mode():
        drafts = drafter.draft(tokens, steps, propose)
        _rewind(processors, len(drafts))
        drafted = time.perf_counter()
        start = cache.length
        out = target(
            torch.tensor([tokens[-1], *drafts], device=drafter.hidden.device), cache, all_logits=True
        )
        committed = _verify(out.logits.float(), drafts, qs, sampler, processors, stop_ids)
        cache.truncate(start + len(committed))
        drafter.observe(out.hidden[: len(committed)], start)
    return SpeculativeStep(committed, len(drafts), drafted - started, time.perf_counter() - drafted)


def _verify(
    logits: torch.Tensor,
    drafts: list[int],
    qs: list[torch.Tensor],
    sampler: Sampler,
    processors: Sequence[LogitsProcessor],
    stop_ids: frozenset[int] | set[int],
) -> list[int]:
    """Walk the target's (n+1, V) logits: keep agreeing drafts, end with one token of the target's."""
    committed: list[int] = []
    for i, row in enumerate(logits):
        row = _process(row, processors)
        if i == len(drafts):
            token = sampler.sample(row)
        elif sampler.params.greedy:
            token = int(row.argmax())
        else:
            token = accept_or_resample(sampler.probs(row), qs[i], drafts[i], sampler)
        if not _advance(processors, token):
            raise EngineError(f"logits processor refused token {token} it allowed")
        committed.append(token)
        if i == len(drafts) or token != drafts[i] or token in stop_ids:
            break
        if any(p.is_finished() for p in processors):
            break
    return committed


def accept_or_resample(p: torch.Tensor, q: torch.Tensor, draft: int, sampler: Sampler) -> int:
    """The draft with probability min(1, p/q) at it, else a draw from the leftover mass max(p - q, 0)."""
    if sampler.uniform(p.device) * float(q[draft]) < float(p[draft]):
        return draft
    residual = (p - q).clamp_(min=0)
    total = float(residual.sum())
    return sampler.draw(residual / total if total > 0 else p)


def _process(logits: torch.Tensor, processors: Sequence[LogitsProcessor]) -> torch.Tensor:
    for processor in processors:
        logits = processor.process(logits)
    return logits


def _advance(processors: Sequence[LogitsProcessor], token: int) -> bool:
    """Accept `token` in every processor, or in none."""
    for i, processor in enumerate(processors):
        if not processor.accept(token):
            _rewind(processors[:i], 1)
            return False
    return True


def _rewind(processors: Sequence[LogitsProcessor], n: int) -> None:
    if n:
        for processor in processors:
            processor.rollback(n)
