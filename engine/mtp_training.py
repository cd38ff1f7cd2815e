"""Training the MTP heads: their loss, and heads-only self-distillation on the target's greedy output.

Head k at position t reads the target hidden h_t (before the final norm) and the embedding of token
t+k+1, and is scored by cross-entropy on token t+k+2: the same non-chain reading drafting uses, with
the true tokens in place of drafts (teacher forcing). The loss is differentiable in the hiddens, the
embedding and the head too, so it can join a target's own LM loss when a small model is trained with
its heads; self-distillation freezes the target and learns its own greedy continuations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.kv_cache import GlobalKV, KVCache
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads


def mtp_loss(
    heads: MTPHeads,
    embed: nn.Embedding,
    lm_head: nn.Linear,
    hidden: torch.Tensor,
    ids: torch.Tensor,
    first_target: int = 0,
    scored: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over heads of the cross-entropy of head k on ids[t+k+2] given (hidden[t], ids[t+k+1]).

    hidden: (T, D) target hiddens for ids (T,). Targets before index `first_target` (e.g. a random
    prompt nobody can predict) are not scored, though their positions still feed the attention; with
    `scored` (T,) bool, only target tokens marked True are (an agent's own turns, not tool output).
    """
    length = ids.shape[0]
    losses = []
    for k in range(len(heads)):
        n = length - k - 2  # positions t = 0..n-1 have a target token t + k + 2
        if n <= 0 or k + 2 + n <= first_target:
            continue
        spec = heads.config.sliding
        cache = GlobalKV(spec, n, hidden.dtype, hidden.device)  # whole sequence; the window is the mask
        normed = heads.run(k, hidden[:n], ids[k + 1 : k + 1 + n], 0, cache, embed)  # (n, D)
        labels = ids[k + 2 : k + 2 + n].clone()  # (n,)
        labels[: max(0, first_target - k - 2)] = -100
        if scored is not None:
            labels[~scored[k + 2 : k + 2 + n]] = -100
        keep = labels != -100  # the head's logits are computed only where they are scored
        if keep.any():
            losses.append(F.cross_entropy(lm_head(normed[keep]).float(), labels[keep]))
    if not losses:
        raise ValueError(f"a sequence of {length} tokens is too short to score any MTP head")
    return torch.stack(losses).mean()


def target_hidden(target: MiMoForCausalLM, ids: Sequence[int], chunk: int = 512) -> torch.Tensor:
    """(T, D) hiddens before the final norm, as a plain tensor the heads' graph may use."""
    device = target.lm_head.weight.device
    cache = KVCache(target.config, len(ids), target.model.embed_tokens.weight.dtype, device)
    parts = [
        target(torch.tensor(ids[i : i + chunk], device=device), cache).hidden
        for i in range(0, len(ids), chunk)
    ]
    return torch.cat(parts).clone()  # clone: an inference-mode tensor cannot be saved for backward


def greedy_continuation(target: MiMoForCausalLM, prompt: Sequence[int], new_tokens: int) -> list[int]:
    """The prompt followed by the target's own greedy continuation."""
    device = target.lm_head.weight.device
    cache = KVCache(target.config, len(prompt) + new_tokens, target.model.embed_tokens.weight.dtype, device)
    ids = list(prompt)
    out = target(torch.tensor(ids, device=device), cache)
    for _ in range(new_tokens):
        ids.append(int(out.logits[-1].argmax()))
        out = target(torch.tensor(ids[-1:], device=device), cache)
    return ids


@dataclass(slots=True)
class DistillSample:
    """One training sequence: its ids, the target's hiddens, and where the target's own tokens begin."""

    ids: torch.Tensor  # (T,)
    hidden: torch.Tensor  # (T, D)
    first_target: int


def distill_samples(
    target: MiMoForCausalLM, prompts: Sequence[Sequence[int]], new_tokens: int, context: int | None = None
) -> list[DistillSample]:
    """The target's greedy continuations of `prompts`, with the hiddens the heads will read.

    `context` keeps only that many prompt tokens before each continuation (the hiddens already carry
    the whole prompt), which makes a training step over a long prompt proportionally cheaper.
    """
    samples = []
    device = target.lm_head.weight.device
    for prompt in prompts:
        ids = greedy_continuation(target, prompt, new_tokens)
        hidden = target_hidden(target, ids)
        keep = 0 if context is None else max(0, len(prompt) - context)
        samples.append(
            DistillSample(torch.tensor(ids[keep:], device=device), hidden[keep:], len(prompt) - keep)
        )
    return samples


def self_distill(
    target: MiMoForCausalLM,
    heads: MTPHeads,
    samples: Sequence[DistillSample],
    steps: int,
    lr: float = 3e-3,
    seed: int = 0,
) -> list[float]:
    """Heads-only training (target, embedding and lm_head frozen) on `samples`; returns the losses."""
    generator = torch.Generator().manual_seed(seed)
    frozen = [p for p in target.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    heads.train()
    optimiser = torch.optim.AdamW(heads.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    try:
        for _ in range(steps):
            sample = samples[int(torch.randint(len(samples), (1,), generator=generator))]
            loss = mtp_loss(
                heads,
                target.model.embed_tokens,
                target.lm_head,
                sample.hidden,
                sample.ids,
                sample.first_target,
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
    finally:
        heads.eval()
        for p in frozen:
            p.requires_grad_(True)
    return losses
