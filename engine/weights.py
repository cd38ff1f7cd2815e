"""Build the model for a checkpoint directory: config first, then every tensor by its exact name."""

from __future__ import annotations

from pathlib import Path

import torch

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.fp8_linear import assign_weights
from mimo_agent.engine.loader import load_weights
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads


def load_checkpoint(
    path: Path, dtype: torch.dtype, device: str | torch.device, keep_fp8: bool = False
) -> tuple[MiMoForCausalLM, MTPHeads | None]:
    """The model and its MTP heads (None when the checkpoint has no `model.mtp.*` tensors).

    Parameters are created on the meta device and replaced by the loaded tensors, so weights are
    allocated once. A tied lm_head is not stored in the checkpoint and is re-tied after loading.
    `keep_fp8`: an FP8 checkpoint's quantised weights stay FP8 in memory (`Fp8Linear`), dequantised to
    `dtype` per layer, or per chosen expert, at each forward; other checkpoints load as without it."""
    config = ModelConfig.from_file(path / "config.json")
    with torch.device("meta"):
        model = MiMoForCausalLM(config)
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    if config.tie_word_embeddings:
        del expected["lm_head.weight"]
    loaded = load_weights(
        path,
        expected,
        quantization_config=config.quantization_config,
        dtype=dtype,
        device=device,
        keep_fp8=keep_fp8,
    )
    tied = frozenset({"lm_head.weight"} if config.tie_word_embeddings else ())
    assign_weights(model, loaded.tensors, absent=tied)
    if config.tie_word_embeddings:
        model.lm_head.weight = model.model.embed_tokens.weight
    mtp = MTPHeads.from_tensors(config, loaded.mtp, str(path))
    return model.eval(), mtp
