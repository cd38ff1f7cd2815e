"""Write a model in the published checkpoint layout, as the hub's MiMo-V2-Flash ships it.

The hub spelling of config.json (`hybrid_layer_pattern`, `swa_*`, …), one tensor per expert and
projection, `attention_sink_bias`, `model.mtp.layers.k.*` for the MTP heads, BF16 weights with the
router and its correction bias kept F32. A checkpoint written here loads through the same path as the
real one, which is the point: the project's own trained model exercises every piece of that path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads, published_name

_TRANSFORMERS_ONLY = {
    "layer_types",
    "mlp_layer_types",
    "rope_parameters",
    "rms_norm_eps",
    "dtype",
    "sliding_window",
}


def hub_config(config: dict[str, Any]) -> dict[str, Any]:
    """transformers' config.json spelling → the published hub spelling (remote-code field names)."""
    if "hybrid_layer_pattern" in config:
        return dict(config)
    rope = config["rope_parameters"]
    hub = {k: v for k, v in config.items() if k not in _TRANSFORMERS_ONLY}
    hub.update(
        hybrid_layer_pattern=[0 if t == "full_attention" else 1 for t in config["layer_types"]],
        moe_layer_freq=[0 if t == "dense" else 1 for t in config["mlp_layer_types"]],
        layernorm_epsilon=config["rms_norm_eps"],
        rope_theta=rope["full_attention"]["rope_theta"],
        swa_rope_theta=rope["sliding_attention"]["rope_theta"],
        partial_rotary_factor=rope["full_attention"]["partial_rotary_factor"],
        swa_num_attention_heads=config["num_attention_heads"],
        swa_num_key_value_heads=2
        * config["num_key_value_heads"],  # transformers doubles it for sliding layers
        swa_head_dim=config["head_dim"],
        swa_v_head_dim=config["v_head_dim"],
        sliding_window=config["sliding_window_size"],
        attention_chunk_size=config["sliding_window_size"],
        add_swa_attention_sink_bias=True,
        add_full_attention_sink_bias=False,
        n_shared_experts=None,
        scoring_func="sigmoid",
        topk_method="noaux_tc",
        routed_scaling_factor=None,
        torch_dtype=config.get("dtype", "float32"),
    )
    return hub


def unfuse_experts(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Fused [E, 2I, H] / [E, H, I] experts → one tensor per expert and projection."""
    out: dict[str, torch.Tensor] = {}
    for name, t in tensors.items():
        parts = name.split(".")
        if parts[-3:-1] == ["mlp", "experts"] and parts[-1] == "gate_up_proj":
            half = t.shape[1] // 2
            for e in range(t.shape[0]):
                out[".".join([*parts[:-1], str(e), "gate_proj", "weight"])] = t[e, :half].clone()
                out[".".join([*parts[:-1], str(e), "up_proj", "weight"])] = t[e, half:].clone()
        elif parts[-3:-1] == ["mlp", "experts"] and parts[-1] == "down_proj":
            for e in range(t.shape[0]):
                out[".".join([*parts[:-1], str(e), "down_proj", "weight"])] = t[e].clone()
        else:
            out[name] = t
    return out


def hub_name(name: str) -> str:
    """transformers' in-memory tensor name → the published one (sinks are `attention_sink_bias` there)."""
    parts = name.split(".")
    if parts[:2] == ["model", "layers"] and parts[-2:] == ["self_attn", "sinks"]:
        return ".".join([*parts[:-1], "attention_sink_bias"])
    return name


def stays_float32(name: str) -> bool:
    """The router and its correction bias are F32 in the published checkpoint, whatever the weights' dtype."""
    parts = name.split(".")
    return (parts[-2:] == ["gate", "weight"] and parts[-3] == "mlp") or parts[-1] == "e_score_correction_bias"


def published_tensors(
    model: MiMoForCausalLM, heads: MTPHeads | None, dtype: torch.dtype = torch.bfloat16
) -> dict[str, torch.Tensor]:
    """Every tensor of `model` (and its MTP heads) under its published name, in `dtype` (router F32)."""
    state = {k: v.detach() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    out = {hub_name(name): t for name, t in unfuse_experts(state).items()}
    for k, layer in enumerate(heads.layers if heads is not None else []):
        out.update({published_name(k, name): t.detach() for name, t in layer.state_dict().items()})
    return {
        name: (t.float() if stays_float32(name) else t.to(dtype)).contiguous().cpu()
        for name, t in out.items()
    }


def save_published(
    directory: Path,
    model: MiMoForCausalLM,
    heads: MTPHeads | None,
    transformers_config: dict[str, Any],
    dtype: torch.dtype = torch.bfloat16,
) -> Path:
    """config.json (hub spelling) and model.safetensors in `directory`; returns the safetensors path."""
    directory.mkdir(parents=True, exist_ok=True)
    config = hub_config(transformers_config)
    config["torch_dtype"] = str(dtype).removeprefix("torch.")
    config.pop("quantization_config", None)
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    path = directory / "model.safetensors"
    save_file(published_tensors(model, heads, dtype), str(path), metadata={"format": "pt"})
    return path
