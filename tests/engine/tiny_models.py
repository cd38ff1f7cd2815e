"""Tiny random MiMo-V2-Flash checkpoints written with transformers' own `save_pretrained` (the real file format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import MiMoV2FlashConfig, MiMoV2FlashForCausalLM

TINY_DEFAULTS: dict[str, Any] = dict(
    vocab_size=256,
    hidden_size=64,
    intermediate_size=96,
    moe_intermediate_size=32,
    num_hidden_layers=6,  # full attention at 0 and 5, sliding 1–4: the real layout's rule
    num_attention_heads=4,
    num_key_value_heads=1,  # sliding layers get 2× this, as in transformers
    head_dim=24,  # partial rotary 0.334 → 8 rotary dims
    v_head_dim=16,
    n_routed_experts=8,
    num_experts_per_tok=2,
    sliding_window_size=16,  # → 16 previous tokens + the current one
    max_position_embeddings=1024,
    rms_norm_eps=1e-5,
    attention_value_scale=0.707,
    bos_token_id=None,
    eos_token_id=None,
    pad_token_id=None,
    tie_word_embeddings=False,
)


def tiny_config(**overrides: Any) -> MiMoV2FlashConfig:
    return MiMoV2FlashConfig(**{**TINY_DEFAULTS, **overrides})


def tiny_model(seed: int = 0, **overrides: Any) -> MiMoV2FlashForCausalLM:
    """A float32 reference model with eager attention and experts, random weights (sinks and router bias too)."""
    torch.manual_seed(seed)
    config = tiny_config(**overrides)
    config._attn_implementation = "eager"
    model = MiMoV2FlashForCausalLM(config).to(torch.float32).eval()
    with torch.no_grad():
        # transformers initialises sinks and the correction bias to constants; randomise so tests can see them.
        for name, param in model.named_parameters():
            if name.endswith("sinks"):
                param.normal_(0.0, 1.0)
        for name, buf in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                buf.normal_(0.0, 0.1)
    model.set_experts_implementation("eager")  # the per-expert loop: the reference, not grouped_mm
    return model


def save_tiny(path: Path, seed: int = 0, **overrides: Any) -> MiMoV2FlashForCausalLM:
    model = tiny_model(seed, **overrides)
    model.save_pretrained(path)
    return model


def save_tiny_chat(path: Path, seed: int = 0, **overrides: Any) -> Path:
    """A tiny checkpoint that chats: the test tokenizer (with the MiMo chat template) beside matching weights."""
    from tests.tiny_tokenizer import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer(path)
    stop = tokenizer.convert_tokens_to_ids("<|im_end|>")
    # The agent's tool definitions alone render to ~4K tokens with the tiny tokenizer.
    defaults = {"vocab_size": len(tokenizer), "eos_token_id": stop, "max_position_embeddings": 8192}
    save_tiny(path, seed, **{**defaults, **overrides})
    return path
