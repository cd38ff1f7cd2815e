"""Mixture of experts: sigmoid router with a selection-only bias, top-k, renormalised weights.

Legend: T tokens, E experts, A = T·k active (token, expert) pairs, D hidden, I expert intermediate.
Pairs are grouped by expert and each expert that received tokens runs once over them, reading its
weights in place: a decoded token runs exactly its k experts, with no copy of their weights (gathering
them would move k·3·I·D values per layer per token a second time) and no loop over the other experts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.fp8_linear import Fp8Linear
from mimo_agent.engine.linear import linear
from mimo_agent.engine.native.ops import moe_few

FEW_PAIRS = 32  # up to this many (token, expert) pairs, `Experts._few` groups them in Python


class Router(nn.Module):
    """Checkpoint name `mlp.gate`: fp32 logits, sigmoid scores; the correction bias only picks experts."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.top_k = config.num_experts_per_tok
        self.normalise = config.norm_topk_prob
        self.scale = config.routed_scaling_factor
        self.weight = nn.Parameter(
            torch.zeros(config.n_routed_experts, config.hidden_size, dtype=torch.float32)
        )
        self.register_buffer(
            "e_score_correction_bias", torch.zeros(config.n_routed_experts, dtype=torch.float32)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (T, D) → (weights (T, k) fp32, expert ids (T, k))."""
        scores = linear(x.float(), self.weight.float()).sigmoid()  # (T, E)
        chosen = torch.topk(scores + self.e_score_correction_bias, k=self.top_k, dim=-1, sorted=False)[
            1
        ]  # (T, k)
        weights = scores.gather(1, chosen)  # (T, k)
        if self.normalise:
            weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
        return weights * self.scale, chosen


class Experts(nn.Module):
    """transformers' fused layout: gate_up_proj (E, 2I, D) with gate rows first, down_proj (E, D, I).

    Either may be an `Fp8Linear` (a checkpoint loaded with keep_fp8): then each expert that got tokens
    is dequantised just before it runs, so a prefill chunk that reaches every expert still holds only
    one expert's dequantised weights at a time."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        experts, hidden, inter = config.n_routed_experts, config.hidden_size, config.moe_intermediate_size
        self.gate_up_proj = nn.Parameter(torch.empty(experts, 2 * inter, hidden))
        self.down_proj = nn.Parameter(torch.empty(experts, hidden, inter))

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """x (T, D), weights/chosen (T, k) → (T, D). Only experts that received a token run."""
        if chosen.numel() <= FEW_PAIRS:
            return self._few(x, weights, chosen)
        top_k = chosen.shape[1]
        flat = chosen.reshape(-1)  # (A,)
        order = torch.argsort(flat, stable=True)  # (A,) pairs sorted by expert id
        experts, counts = torch.unique_consecutive(flat[order], return_counts=True)
        token_of = order // top_k  # (A,) token of each sorted pair
        pair_weights = weights.reshape(-1)[order]  # (A,)
        out = torch.zeros_like(x)  # (T, D)
        start = 0
        for expert, count in zip(experts.tolist(), counts.tolist(), strict=True):
            rows = token_of[start : start + count]  # (n,)
            y = self._expert_mlp(expert, x[rows])  # (n, D)
            out.index_add_(0, rows, (y * pair_weights[start : start + count, None]).to(x.dtype))
            start += count
        return out

    def _few(self, x: torch.Tensor, weights: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """`forward` for a decode step or an MTP verify: the same sums in the same (expert) order,
        grouped in Python, since sorting and indexing tensors costs more than these few pairs."""
        groups: dict[int, list[tuple[int, float]]] = {}
        for token, (experts, scales) in enumerate(zip(chosen.tolist(), weights.tolist(), strict=True)):
            for expert, scale in zip(experts, scales, strict=True):
                groups.setdefault(expert, []).append((token, scale))
        out = torch.zeros_like(x)  # (T, D)
        for expert in sorted(groups):
            pairs = groups[expert]
            if len(pairs) == 1:
                token, scale = pairs[0]
                out[token : token + 1] += (self._expert_mlp(expert, x[token : token + 1]) * scale).to(x.dtype)
                continue
            rows = torch.tensor([token for token, _ in pairs], device=x.device)  # (n,)
            scales = torch.tensor([scale for _, scale in pairs], dtype=torch.float32, device=x.device)  # (n,)
            out.index_add_(0, rows, (self._expert_mlp(expert, x[rows]) * scales[:, None]).to(x.dtype))
        return out

    def _expert_mlp(self, expert: int, x: torch.Tensor) -> torch.Tensor:
        """One expert's SwiGLU over its rows x (n, D) → (n, D)."""
        gate_up = _expert(self.gate_up_proj, expert, x.dtype)  # (2I, D)
        gate, up = linear(x, gate_up).chunk(2, dim=-1)  # each (n, I)
        return linear(F.silu(gate) * up, _expert(self.down_proj, expert, x.dtype))  # (n, D)


def _expert(stack: torch.Tensor | Fp8Linear, expert: int, dtype: torch.dtype) -> torch.Tensor:
    """One expert's weight: a view into the stack, or dequantised from FP8 just now."""
    return stack.expert_for(expert, dtype) if isinstance(stack, Fp8Linear) else stack[expert]


class MoE(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.gate = Router(config)
        self.experts = Experts(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (T, D) → (T, D). A decode step or verify is one native call (router and experts)."""
        gate, experts = self.gate, self.experts
        native = moe_few(
            x, gate.weight, gate.e_score_correction_bias, gate.top_k, gate.normalise, gate.scale,
            experts.gate_up_proj, experts.down_proj,
        )  # fmt: skip
        if native is not None:
            return native
        weights, chosen = gate(x)
        return experts(x, weights, chosen)
