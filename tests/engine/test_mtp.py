"""MTP heads: loading the published `model.mtp.*` tensors, the non-chain reading, the training loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.engine import Engine
from mimo_agent.engine.errors import CheckpointError
from mimo_agent.engine.kv_cache import RingKV
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.mtp_training import mtp_loss
from tests.engine import checkpoint_writers as cw
from tests.engine.tiny_models import save_tiny


@pytest.fixture(scope="module")
def hub_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mtp")
    save_tiny(base / "src", seed=0)
    return cw.to_hub_layout(base / "src", base / "hub", mtp_layers=3, seed=7)


def test_published_mtp_tensors_load_with_the_model(hub_dir: Path) -> None:
    engine = Engine.from_pretrained(hub_dir, max_seq_len=64)
    assert engine.mtp is not None and len(engine.mtp) == 3
    _, on_disk = cw.read_checkpoint(hub_dir)
    state = engine.mtp.state_dict()
    for name, tensor in on_disk.items():
        if name.startswith("model.mtp.layers."):
            local = name.removeprefix("model.mtp.").replace("attention_sink_bias", "sinks")
            assert torch.equal(state[local], tensor), name
    assert len(state) == sum(1 for name in on_disk if name.startswith("model.mtp."))


def test_checkpoint_without_mtp_disables_speculation(tmp_path: Path) -> None:
    save_tiny(tmp_path, seed=0)
    engine = Engine.from_pretrained(tmp_path, max_seq_len=64)
    assert engine.mtp is None
    result = engine.complete([1, 2, 3], mtp_steps=None)
    assert result.stats.speculation is None


def test_fp8_mtp_tensors_are_dequantised(hub_dir: Path, tmp_path: Path) -> None:
    fp8 = Engine.from_pretrained(cw.quantize_fp8(hub_dir, tmp_path / "fp8"), max_seq_len=64)
    plain = Engine.from_pretrained(hub_dir, max_seq_len=64)
    q, ref = fp8.mtp.layers[1].mlp.up_proj.weight, plain.mtp.layers[1].mlp.up_proj.weight
    assert not torch.equal(q, ref) and torch.allclose(q, ref, atol=0.01)


def test_incomplete_mtp_layer_names_the_missing_tensor(hub_dir: Path) -> None:
    config = ModelConfig.from_file(hub_dir)
    _, tensors = cw.read_checkpoint(hub_dir)
    mtp = {n: t for n, t in tensors.items() if n.startswith("model.mtp.")}
    del mtp["model.mtp.layers.1.self_attn.attention_sink_bias"]
    with pytest.raises(CheckpointError, match=r"model\.mtp\.layers\.1\.self_attn\.attention_sink_bias.*ckpt"):
        MTPHeads.from_tensors(config, mtp, "ckpt")
    mtp = {n: t for n, t in tensors.items() if n.startswith("model.mtp.layers.0.")}
    mtp["model.mtp.layers.2.enorm.weight"] = tensors["model.mtp.layers.2.enorm.weight"]
    with pytest.raises(CheckpointError, match=r"\[0, 2\].*without gaps"):
        MTPHeads.from_tensors(config, mtp, "ckpt")


def manual_layer(
    heads: MTPHeads, k: int, hidden: torch.Tensor, ids: torch.Tensor, embed: torch.nn.Embedding
) -> torch.Tensor:
    """Layer k written out from the reference's formula (§6), one position at a time on a ring cache."""
    layer = heads.layers[k]
    cache = RingKV(heads.config.sliding, 1, hidden.dtype, hidden.device)
    rows = []
    for t in range(hidden.shape[0]):
        pos = torch.tensor([t])
        u = layer.eh_proj(torch.cat((layer.enorm(embed(ids[t : t + 1])), layer.hnorm(hidden[t : t + 1])), -1))
        a = u + layer.self_attn(layer.input_layernorm(u), heads.rotary.cos_sin(pos, u.dtype), t, cache)
        rows.append(layer.final_layernorm(a + layer.mlp(layer.pre_mlp_layernorm(a))))
    return torch.cat(rows)


def test_loss_scores_head_k_on_token_t_plus_k_plus_2(hub_dir: Path) -> None:
    engine = Engine.from_pretrained(hub_dir, max_seq_len=64)
    heads, model = engine.mtp, engine.model
    ids = torch.randint(0, 256, (40,), generator=torch.Generator().manual_seed(0))
    hidden = torch.randn(40, model.config.hidden_size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        loss = mtp_loss(heads, model.model.embed_tokens, model.lm_head, hidden, ids)
        expected = []
        for k in range(3):
            n = 40 - k - 2
            normed = manual_layer(heads, k, hidden[:n], ids[k + 1 : k + 1 + n], model.model.embed_tokens)
            expected.append(torch.nn.functional.cross_entropy(model.lm_head(normed), ids[k + 2 : k + 2 + n]))
    assert torch.allclose(loss, torch.stack(expected).mean(), atol=1e-5)


def test_loss_trains_heads_and_target_together(hub_dir: Path) -> None:
    """The loss is differentiable in the hiddens, the shared embedding and the lm_head as well."""
    engine = Engine.from_pretrained(hub_dir, max_seq_len=64)
    heads, model = engine.mtp, engine.model
    ids = torch.randint(0, 256, (24,), generator=torch.Generator().manual_seed(0))
    hidden = torch.randn(24, model.config.hidden_size, requires_grad=True)
    loss = mtp_loss(heads, model.model.embed_tokens, model.lm_head, hidden, ids, first_target=10)
    loss.backward()
    assert hidden.grad is not None and hidden.grad.abs().sum() > 0
    assert model.lm_head.weight.grad is not None and heads.layers[2].eh_proj.weight.grad is not None
    with pytest.raises(ValueError, match="too short"):
        mtp_loss(heads, model.model.embed_tokens, model.lm_head, hidden[:2], ids[:2])
