"""MiMo-V2 decoder in plain PyTorch; parameter names equal transformers' in-memory `MiMoV2FlashForCausalLM`.

Batch size one: activations are (T, D) for T new tokens. The caller owns the KV cache and passes it in;
`forward` runs the new tokens at positions `cache.length`… and advances the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mimo_agent.engine.attention import Attention
from mimo_agent.engine.config import GLOBAL, SLIDING, ModelConfig
from mimo_agent.engine.kv_cache import GlobalKV, KVCache, RingKV
from mimo_agent.engine.layers import DenseMLP, RMSNorm, Rotary
from mimo_agent.engine.linear import Linear
from mimo_agent.engine.moe import MoE


class DecoderLayer(nn.Module):
    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.kind = config.layer_types[layer]
        self.self_attn = Attention(config.attention(layer), config.hidden_size, config.attention_value_scale)
        self.mlp: nn.Module = (
            MoE(config) if config.is_moe(layer) else DenseMLP(config.hidden_size, config.intermediate_size)
        )
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)

    def forward(
        self,
        h: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
        start: int,
        cache: GlobalKV | RingKV,
    ) -> torch.Tensor:
        h = h + self.self_attn(self.input_layernorm(h), rope, start, cache)
        return h + self.mlp(self.post_attention_layernorm(h))


class Backbone(nn.Module):
    """Checkpoint prefix `model.`: embeddings, decoder layers, final norm."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config, layer) for layer in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.rotary = {GLOBAL: Rotary(config.full), SLIDING: Rotary(config.sliding)}


@dataclass(slots=True)
class ForwardOutput:
    logits: torch.Tensor  # (T, V) with all_logits, else (1, V) for the last new token
    hidden: torch.Tensor  # (T, D) last layer's residual stream before the final norm (MTP's input)


class MiMoForCausalLM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.model = Backbone(config)
        self.lm_head = Linear(config.hidden_size, config.vocab_size)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    @torch.no_grad()  # not inference_mode: callers (grammar masks) edit the returned logits in place
    def forward(self, input_ids: torch.Tensor, cache: KVCache, all_logits: bool = False) -> ForwardOutput:
        """input_ids: (T,) new tokens continuing the cached context."""
        tokens = input_ids.shape[0]
        cache.check_room(tokens)
        start = cache.length
        positions = torch.arange(start, start + tokens, device=input_ids.device)  # (T,)
        h = self.model.embed_tokens(input_ids)  # (T, D)
        ropes = {kind: rotary.cos_sin(positions, h.dtype) for kind, rotary in self.model.rotary.items()}
        for layer, layer_cache in zip(self.model.layers, cache.layers, strict=True):
            h = layer(h, ropes[layer.kind], start, layer_cache)
        cache.length = start + tokens
        normed = self.model.norm(h if all_logits else h[-1:])  # (T or 1, D)
        return ForwardOutput(logits=self.lm_head(normed), hidden=h)
