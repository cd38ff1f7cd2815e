"""Training the demo model: the differentiable forward is the engine's, losses fall, the pipeline writes a
checkpoint the engine loads like the published one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.weights import load_checkpoint
from mimo_agent.evals.tiny_model import train as T
from mimo_agent.settings import load_settings
from tests.engine.tiny_models import tiny_config


def _config() -> ModelConfig:
    return ModelConfig.from_dict(tiny_config(vocab_size=64, max_position_embeddings=256).to_dict())


def test_training_forward_equals_the_inference_forward() -> None:
    model, _ = T.build_model(_config(), seed=0)
    ids = torch.randint(0, 64, (70,), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        trained = T.forward_hidden(model, ids)
    served = model.eval()(ids, KVCache(model.config, 80, torch.float32, torch.device("cpu")), all_logits=True)
    assert torch.allclose(trained, served.hidden, atol=1e-5)


def test_losses_fall_and_the_router_bias_moves() -> None:
    model, heads = T.build_model(_config(), seed=0)
    pattern = torch.arange(40) % 7 + 3  # a sequence to memorise, the second half scored
    sample = T.Sample(pattern, torch.arange(40) >= 20)
    before = T.evaluate(model, heads, [sample])
    log = T.train(
        model,
        heads,
        T.FixedSamples([sample]),
        T.TrainOptions(epochs=30, warmup_steps=3, lr=3e-3),
        validation=[sample],
    )
    assert log.steps == 30 and log.scored_tokens == 30 * 20
    assert log.validation["lm_loss"] < before["lm_loss"] / 4
    assert log.validation["mtp_loss"] < before["mtp_loss"] / 2
    biases = [b for name, b in model.named_buffers() if name.endswith("e_score_correction_bias")]
    assert any(b.abs().sum() > 0 for b in biases)


def test_learning_rate_warms_up_then_decays_to_the_floor() -> None:
    options = T.TrainOptions(lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    rates = [T.learning_rate(step, 100, options) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[50] < rates[20] and rates[-1] == pytest.approx(0.1, abs=1e-3)


@pytest.mark.slow
def test_the_pipeline_writes_a_checkpoint_the_engine_and_agent_load(
    tiny_build: tuple[Path, Path, dict],
) -> None:
    out, work, report = tiny_build
    assert report["data"]["train_trajectories"] == 2 and report["training"]["steps"] == 2
    assert report["model"]["mtp_layers"] == T.MTP_LAYERS
    assert set(report["seconds"]) == {"tasks", "trajectories", "tokenizer", "training", "total"}
    assert json.loads((out / "training.json").read_text())["data"] == report["data"]
    model, heads = load_checkpoint(out, torch.float32, "cpu")
    assert heads is not None and len(heads) == T.MTP_LAYERS
    assert (
        json.loads((out / "config.json").read_text())["sliding_window"]
        == T.ARCHITECTURE["sliding_window_size"]
    )
    settings = load_settings(work, flags={"model": {"path": str(out)}}, environ={}).settings
    assert settings.tools.enabled is not None and "edit" in settings.tools.enabled
    assert (out / "tokenizer.json").is_file() and (out / "chat_template.jinja").is_file()
