"""A model written in the published layout loads back through the real loader to the same outputs."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.export import save_published
from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.weights import load_checkpoint
from tests.engine.tiny_models import tiny_config


def _random(config: ModelConfig) -> tuple[MiMoForCausalLM, MTPHeads]:
    torch.manual_seed(0)
    model, heads = MiMoForCausalLM(config), MTPHeads(config, 2)
    with torch.no_grad():
        for module in (model, heads):
            for param in module.parameters():
                param.normal_(0.0, 0.1)
        for name, buf in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                buf.normal_(0.0, 0.1)
    return model.eval(), heads.eval()


def test_published_layout_round_trips_model_and_mtp_heads(tmp_path: Path) -> None:
    raw = tiny_config().to_dict()
    model, heads = _random(ModelConfig.from_dict(raw))
    save_published(tmp_path, model, heads, raw, dtype=torch.float32)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["hybrid_layer_pattern"] == [0, 1, 1, 1, 1, 0] and "layer_types" not in config
    with safe_open(str(tmp_path / "model.safetensors"), framework="pt") as f:
        names = set(f.keys())
    assert "model.layers.1.mlp.experts.7.down_proj.weight" in names
    assert "model.layers.1.self_attn.attention_sink_bias" in names
    assert "model.mtp.layers.1.self_attn.attention_sink_bias" in names

    loaded, loaded_heads = load_checkpoint(tmp_path, torch.float32, "cpu")
    assert loaded_heads is not None and len(loaded_heads) == 2
    ids = torch.randint(0, raw["vocab_size"], (40,))
    outputs = [
        m(ids, KVCache(m.config, 64, torch.float32, torch.device("cpu")), all_logits=True)
        for m in (model, loaded)
    ]
    assert torch.equal(outputs[0].logits, outputs[1].logits)
    for a, b in zip(heads.state_dict().values(), loaded_heads.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_bf16_export_keeps_the_router_in_float32(tmp_path: Path) -> None:
    raw = tiny_config().to_dict()
    model, heads = _random(ModelConfig.from_dict(raw))
    save_published(tmp_path, model, heads, raw)
    with safe_open(str(tmp_path / "model.safetensors"), framework="pt") as f:
        assert f.get_tensor("model.layers.1.mlp.gate.weight").dtype == torch.float32
        assert f.get_tensor("model.layers.1.mlp.gate.e_score_correction_bias").dtype == torch.float32
        assert f.get_tensor("model.layers.1.self_attn.q_proj.weight").dtype == torch.bfloat16
    assert json.loads((tmp_path / "config.json").read_text())["torch_dtype"] == "bfloat16"
    loaded, _ = load_checkpoint(tmp_path, torch.float32, "cpu")
    ids = torch.randint(0, raw["vocab_size"], (12,))
    expected = model(ids, KVCache(model.config, 16, torch.float32, torch.device("cpu"))).logits
    got = loaded(ids, KVCache(loaded.config, 16, torch.float32, torch.device("cpu"))).logits
    assert torch.allclose(expected, got, atol=0.1)  # bf16 weights: close, not equal
    assert not torch.equal(expected, got)
