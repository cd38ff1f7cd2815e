"""MiMo-V2-Flash's multi-token-prediction layers (`model.mtp.layers.k`), one draft token each.

Non-chain, as SGLang runs MiMo: every layer reads the *target's* last residual stream before the final
norm, never another MTP layer's output. At position i, layer k reads (h_i, token i+1+k), predicts token
i+2+k, and rotates at position i; its own sliding-window cache entry at position j comes from
(h_j, token j+1+k). Embedding and lm_head are the target's (passed in, never copied).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from mimo_agent.engine.attention import Attention
from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.errors import CheckpointError
from mimo_agent.engine.fp8 import Fp8Weight
from mimo_agent.engine.fp8_linear import assign_weights
from mimo_agent.engine.kv_cache import GlobalKV, RingKV
from mimo_agent.engine.layers import DenseMLP, RMSNorm, Rotary
from mimo_agent.engine.linear import Linear

MTP_PREFIX = "model.mtp.layers."
_PUBLISHED_SINK = "self_attn.attention_sink_bias"


class MTPLayer(nn.Module):
    """enorm(e) ⊕ hnorm(h) → eh_proj → one sliding-window block with sinks and a dense MLP → final norm."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        hidden, eps = config.hidden_size, config.rms_norm_eps
        self.enorm = RMSNorm(hidden, eps)
        self.hnorm = RMSNorm(hidden, eps)
        self.eh_proj = Linear(2 * hidden, hidden)
        self.input_layernorm = RMSNorm(hidden, eps)
        self.self_attn = Attention(config.sliding, hidden, config.attention_value_scale)
        self.pre_mlp_layernorm = RMSNorm(hidden, eps)
        self.mlp = DenseMLP(hidden, config.intermediate_size)
        self.final_layernorm = RMSNorm(hidden, eps)

    def forward(
        self,
        hidden: torch.Tensor,
        embeds: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
        start: int,
        cache: GlobalKV | RingKV,
    ) -> torch.Tensor:
        """hidden, embeds: (T, D) for positions start.. → (T, D) normed, ready for the lm_head."""
        u = self.eh_proj(torch.cat((self.enorm(embeds), self.hnorm(hidden)), dim=-1))  # (T, 2D) → (T, D)
        a = u + self.self_attn(self.input_layernorm(u), rope, start, cache)
        b = a + self.mlp(self.pre_mlp_layernorm(a))
        return self.final_layernorm(b)


class MTPHeads(nn.Module):
    """The checkpoint's `model.mtp.layers.*`; draft step k uses layer k."""

    def __init__(self, config: ModelConfig, num_layers: int) -> None:
        super().__init__()
        if config.sliding.window is None:
            raise CheckpointError(f"{config.source}: MTP layers need sliding-window attention settings")
        self.config = config
        self.layers = nn.ModuleList(MTPLayer(config) for _ in range(num_layers))
        self.rotary = Rotary(config.sliding)

    def __len__(self) -> int:
        return len(self.layers)

    def run(
        self,
        layer: int,
        hidden: torch.Tensor,
        token_ids: torch.Tensor,
        start: int,
        cache: GlobalKV | RingKV,
        embed: nn.Embedding,
    ) -> torch.Tensor:
        """Layer `layer` over positions start.. with target hiddens (T, D) and tokens (T,) → normed (T, D)."""
        positions = torch.arange(start, start + hidden.shape[0], device=hidden.device)  # (T,)
        rope = self.rotary.cos_sin(positions, hidden.dtype)
        return self.layers[layer](hidden, embed(token_ids), rope, start, cache)

    @classmethod
    def from_tensors(
        cls, config: ModelConfig, tensors: Mapping[str, torch.Tensor | Fp8Weight], source: str
    ) -> MTPHeads | None:
        """Heads from published `model.mtp.layers.k.*` tensors (None when there are none); `Fp8Weight`
        values stay FP8 (see fp8_linear).

        Every layer 0..n-1 must be complete with the expected shapes; a stray or missing tensor names
        itself and `source` (a silently half-loaded head would only show up as poor acceptance).
        """
        if not tensors:
            return None
        by_layer: dict[int, dict[str, torch.Tensor | Fp8Weight]] = {}
        for name, tensor in tensors.items():
            parts = name.split(".")
            if parts[:3] != ["model", "mtp", "layers"] or len(parts) < 5 or not parts[3].isdigit():
                raise CheckpointError(f"unexpected MTP tensor {name!r} in {source}")
            local = ".".join(parts[4:])
            by_layer.setdefault(int(parts[3]), {})[
                "self_attn.sinks" if local == _PUBLISHED_SINK else local
            ] = tensor
        if sorted(by_layer) != list(range(len(by_layer))):
            raise CheckpointError(f"MTP layers {sorted(by_layer)} in {source}: expected 0..n-1 without gaps")
        with torch.device("meta"):
            heads = cls(config, len(by_layer))
        for k, layer in enumerate(heads.layers):
            expected = {name: tuple(t.shape) for name, t in layer.state_dict().items()}
            found = by_layer[k]
            for name, shape in expected.items():
                if name not in found:
                    raise CheckpointError(
                        f"tensor {published_name(k, name)!r} (shape {list(shape)}) missing from {source}"
                    )
                if tuple(found[name].shape) != shape:
                    raise CheckpointError(
                        f"tensor {published_name(k, name)!r} in {source} has shape {list(found[name].shape)}, "
                        f"expected {list(shape)}"
                    )
            for name in found.keys() - expected.keys():
                raise CheckpointError(f"unexpected MTP tensor {published_name(k, name)!r} in {source}")
            assign_weights(layer, found)
        return heads.eval()


def published_name(layer: int, name: str) -> str:
    """The checkpoint name of MTP layer `layer`'s tensor `name` (its in-memory name)."""
    return f"{MTP_PREFIX}{layer}." + (_PUBLISHED_SINK if name == "self_attn.sinks" else name)
