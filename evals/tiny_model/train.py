"""Training the demo model: a small MiMo-V2 (global + sliding-window layers with sinks, MoE, three MTP
heads) learns the expert's turns, next-token loss on the assistant tokens plus the MTP loss on them.

One trajectory per step (batch one, as the engine's activations are (T, D)); the conversation's other
tokens (system prompt, tool results) are context only. The router's correction bias is kept balanced
the auxiliary-loss-free way (nudged toward under-used experts after each step), which is how the bias
the published checkpoint ships comes about. Everything is seeded; the step count follows from the data
and the epochs, never from the clock, so a rerun gives the same weights on the same machine.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from transformers import MiMoV2FlashConfig, PreTrainedTokenizerBase

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.kv_cache import GlobalKV
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.moe import Router
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.mtp_training import mtp_loss
from mimo_agent.evals.tiny_model.rename import rename
from mimo_agent.evals.tiny_model.tokenizer import MaskError, encode_with_mask

# The real layout scaled down: global attention at layers 0 and 5, 128-token sliding windows with sinks
# at 1–4, a dense MLP at layer 0 and MoE after it, asymmetric q/k (48) and v (32) heads, partial RoPE.
ARCHITECTURE: dict[str, Any] = dict(
    hidden_size=256,
    intermediate_size=512,
    moe_intermediate_size=128,
    num_hidden_layers=6,
    num_attention_heads=4,
    num_key_value_heads=2,  # sliding layers get twice as many, as in the real model
    head_dim=48,
    v_head_dim=32,
    n_routed_experts=8,
    num_experts_per_tok=2,
    sliding_window_size=128,
    max_position_embeddings=8192,
    rms_norm_eps=1e-5,
    attention_value_scale=0.707,
    bos_token_id=None,
    tie_word_embeddings=False,
)
MTP_LAYERS = 3


@dataclass(frozen=True)
class TrainOptions:
    seed: int = 0
    epochs: float = 3.5
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 40
    weight_decay: float = 0.05
    grad_clip: float = 1.0
    mtp_weight: float = 0.3
    balance_rate: float = 1e-3  # correction-bias step per update
    rename_share: float = 0.8  # share of training samples with their repository names drawn anew
    max_minutes: float | None = None  # a safety stop; the schedule never depends on it


@dataclass
class Sample:
    """One trajectory: token ids (T,) and which of them are the assistant's (the scored targets)."""

    ids: torch.Tensor
    scored: torch.Tensor  # (T,) bool
    instance_id: str = ""


@dataclass
class TrainLog:
    steps: int = 0
    tokens: int = 0
    scored_tokens: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    curve: list[dict[str, float]] = field(default_factory=list)  # every `report_every` steps
    validation: dict[str, float] = field(default_factory=dict)


def transformers_config(vocab_size: int, eos_token_id: int, pad_token_id: int) -> dict[str, Any]:
    """The architecture as transformers' config dict (the spelling `export.hub_config` converts)."""
    config = MiMoV2FlashConfig(
        **ARCHITECTURE, vocab_size=vocab_size, eos_token_id=eos_token_id, pad_token_id=pad_token_id
    )
    return config.to_dict()


def encode(
    tokenizer: PreTrainedTokenizerBase, text: str, spans: Sequence[Sequence[int]], instance_id: str
) -> Sample:
    ids, mask = encode_with_mask(tokenizer, text, spans)
    return Sample(torch.tensor(ids), torch.tensor(mask, dtype=torch.bool), instance_id)


def samples_from(tokenizer: PreTrainedTokenizerBase, rows: Sequence[dict[str, Any]]) -> list[Sample]:
    return [encode(tokenizer, row["text"], row["assistant_spans"], row["instance_id"]) for row in rows]


class FixedSamples:
    """Training data as given: sample i is always the same."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self.samples = list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def sample(self, index: int, rng: random.Random) -> Sample:
        return self.samples[index]


class RenamedSamples:
    """Trajectories whose repository names are drawn anew each time one is used (with probability `share`),
    so names must be copied from the context rather than remembered (see `rename`)."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        rows: Sequence[dict[str, Any]],
        keep: frozenset[str],
        share: float,
    ) -> None:
        self.tokenizer, self.rows, self.keep, self.share = tokenizer, list(rows), keep, share

    def __len__(self) -> int:
        return len(self.rows)

    def sample(self, index: int, rng: random.Random) -> Sample:
        row = self.rows[index]
        if rng.random() < self.share:
            text, spans = rename(row["text"], row["assistant_spans"], self.keep, rng)
            try:
                return encode(self.tokenizer, text, spans, row["instance_id"])
            except MaskError:
                pass  # a renamed name shifted a token boundary at a span edge: use the original
        return encode(self.tokenizer, row["text"], row["assistant_spans"], row["instance_id"])


class TrainingData(Protocol):
    def __len__(self) -> int: ...

    def sample(self, index: int, rng: random.Random) -> Sample: ...


def build_model(config: ModelConfig, seed: int) -> tuple[MiMoForCausalLM, MTPHeads]:
    """Fresh weights: N(0, 0.02) matrices (output projections scaled by depth), unit norms, zero sinks."""
    torch.manual_seed(seed)
    model, heads = MiMoForCausalLM(config), MTPHeads(config, MTP_LAYERS)
    depth_scale = 1 / math.sqrt(2 * config.num_hidden_layers)
    for module in (model, heads):
        for name, param in module.named_parameters():
            with torch.no_grad():
                if name.endswith("norm.weight"):
                    param.fill_(1.0)
                elif name.endswith("sinks"):
                    param.zero_()
                else:
                    std = 0.02 * (depth_scale if ("o_proj" in name or "down_proj" in name) else 1.0)
                    param.normal_(0.0, std)
    return model.train(), heads.train()


def forward_hidden(model: MiMoForCausalLM, ids: torch.Tensor) -> torch.Tensor:
    """(T,) ids → (T, D) residual stream before the final norm, differentiable (the engine's own layers;
    every layer sees the whole sequence and the sliding window is the attention mask)."""
    tokens = ids.shape[0]
    positions = torch.arange(tokens)
    h = model.model.embed_tokens(ids)  # (T, D)
    ropes = {kind: rotary.cos_sin(positions, h.dtype) for kind, rotary in model.model.rotary.items()}
    for layer in model.model.layers:
        cache = GlobalKV(layer.self_attn.spec, tokens, h.dtype, h.device)
        h = layer(h, ropes[layer.kind], 0, cache)
    return h


def _scored(
    model: MiMoForCausalLM, hidden: torch.Tensor, sample: Sample
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (n, V) float32, targets (n,)) at the positions whose next token is scored, only there."""
    rows = sample.scored[1:].nonzero().squeeze(1)
    return model.lm_head(model.model.norm(hidden[rows])).float(), sample.ids[rows + 1]


def _mtp(model: MiMoForCausalLM, heads: MTPHeads, hidden: torch.Tensor, sample: Sample) -> torch.Tensor:
    return mtp_loss(heads, model.model.embed_tokens, model.lm_head, hidden, sample.ids, scored=sample.scored)


def losses(model: MiMoForCausalLM, heads: MTPHeads, sample: Sample) -> tuple[torch.Tensor, torch.Tensor]:
    """(next-token loss, MTP loss) on the sample's assistant tokens."""
    hidden = forward_hidden(model, sample.ids)
    return F.cross_entropy(*_scored(model, hidden, sample)), _mtp(model, heads, hidden, sample)


class ExpertBalance:
    """Counts each router's choices and nudges its correction bias toward the experts it under-uses."""

    def __init__(self, model: nn.Module, rate: float) -> None:
        self.rate = rate
        self.routers = [m for m in model.modules() if isinstance(m, Router)]
        self.counts = [torch.zeros_like(r.e_score_correction_bias) for r in self.routers]
        self.hooks = [r.register_forward_hook(self._hook(i)) for i, r in enumerate(self.routers)]

    def _hook(self, index: int) -> Callable[..., None]:
        def count(module: nn.Module, inputs: Any, output: tuple[torch.Tensor, torch.Tensor]) -> None:
            self.counts[index] += torch.bincount(output[1].reshape(-1), minlength=self.counts[index].numel())

        return count

    @torch.no_grad()
    def update(self) -> float:
        """Apply and reset; returns the worst router's max/mean load (1.0 is perfectly balanced)."""
        worst = 1.0
        for router, counts in zip(self.routers, self.counts, strict=True):
            if counts.sum() > 0:
                worst = max(worst, float(counts.max() / counts.mean()))
                router.e_score_correction_bias += self.rate * torch.sign(counts.mean() - counts)
            counts.zero_()
        return worst

    def close(self) -> None:
        for hook in self.hooks:
            hook.remove()


def learning_rate(step: int, total: int, options: TrainOptions) -> float:
    if step < options.warmup_steps:
        return options.lr * (step + 1) / options.warmup_steps
    progress = (step - options.warmup_steps) / max(1, total - options.warmup_steps)
    floor = options.min_lr_ratio
    return options.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _optimizer(modules: Sequence[nn.Module], options: TrainOptions) -> torch.optim.Optimizer:
    params = {id(p): p for m in modules for p in m.parameters()}.values()  # the shared embedding once
    decay = [p for p in params if p.dim() >= 2]
    plain = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": options.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=options.lr, betas=(0.9, 0.95), eps=1e-8)


@torch.no_grad()
def evaluate(model: MiMoForCausalLM, heads: MTPHeads, samples: Sequence[Sample]) -> dict[str, float]:
    """Mean next-token and MTP loss, and next-token accuracy, on held-out samples."""
    model.eval(), heads.eval()
    lm_total = mtp_total = correct = count = 0.0
    for sample in samples:
        hidden = forward_hidden(model, sample.ids)
        logits, targets = _scored(model, hidden, sample)
        lm_total += float(F.cross_entropy(logits, targets, reduction="sum"))
        correct += float((logits.argmax(-1) == targets).sum())
        count += len(targets)
        mtp_total += float(_mtp(model, heads, hidden, sample))
    model.train(), heads.train()
    return {
        "lm_loss": round(lm_total / max(1.0, count), 4),
        "next_token_accuracy": round(correct / max(1.0, count), 4),
        "mtp_loss": round(mtp_total / max(1, len(samples)), 4),
        "samples": len(samples),
    }


def train(
    model: MiMoForCausalLM,
    heads: MTPHeads,
    data: TrainingData,
    options: TrainOptions,
    validation: Sequence[Sample] = (),
    report_every: int = 25,
    on_progress: Callable[[str], None] = lambda line: None,
) -> TrainLog:
    """Optimise in place for `options.epochs` passes (a seeded shuffle each) and return the log."""
    rng = random.Random(options.seed)
    total = max(1, round(options.epochs * len(data)))
    order: list[int] = []
    optimizer = _optimizer((model, heads), options)
    balance = ExpertBalance(model, options.balance_rate)
    log, started = TrainLog(), time.monotonic()
    window: list[tuple[float, float]] = []
    try:
        for step in range(total):
            if not order:
                order = list(range(len(data)))
                rng.shuffle(order)
            sample = data.sample(order.pop(), rng)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total, options)
            lm, mtp = losses(model, heads, sample)
            optimizer.zero_grad(set_to_none=True)
            (lm + options.mtp_weight * mtp).backward()
            torch.nn.utils.clip_grad_norm_(
                [p for g in optimizer.param_groups for p in g["params"]], options.grad_clip
            )
            optimizer.step()
            load = balance.update()
            log.steps, log.tokens = step + 1, log.tokens + len(sample.ids)
            log.scored_tokens += int(sample.scored.sum())
            window.append((lm.item(), mtp.item()))
            elapsed = time.monotonic() - started
            if (step + 1) % report_every == 0 or step + 1 == total:
                point = {
                    "step": step + 1,
                    "lm_loss": round(sum(w[0] for w in window) / len(window), 4),
                    "mtp_loss": round(sum(w[1] for w in window) / len(window), 4),
                    "expert_load_max_over_mean": round(load, 2),
                    "seconds": round(elapsed, 1),
                }
                log.curve.append(point)
                window.clear()
                on_progress(
                    f"step {step + 1}/{total}  lm {point['lm_loss']:.3f}  mtp {point['mtp_loss']:.3f}  "
                    f"{log.tokens / elapsed:,.0f} tok/s  {elapsed / 60:.1f} min"
                )
            if options.max_minutes is not None and elapsed > options.max_minutes * 60:
                log.stopped_early = True
                on_progress(f"stopped at step {step + 1}: over the {options.max_minutes} min safety limit")
                break
    finally:
        balance.close()
    log.seconds = round(time.monotonic() - started, 1)
    if validation:
        log.validation = evaluate(model, heads, validation)
    return log
