"""Build the model for a checkpoint directory: config first, then every tensor by its exact name."""

from __future__ import annotations

from pathlib import Path

import torch

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.fp8_linear import assign_weights
from mimo_agent.engine.loader import load_weights
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.weight_layout import check_weight_dtype, matrix_parameters


def load_checkpoint(
    path: Path,
    dtype: torch.dtype,
    device: str | torch.device,
    keep_fp8: bool = False,
    weight_dtype: torch.dtype | None = None,
) -> tuple[MiMoForCausalLM, MTPHeads | None]:
    """The model and its MTP heads (None when the checkpoint has no `model.mtp.*` tensors).

    Parameters are created on the meta device and replaced by the loaded tensors, so weights are
    allocated once. A tied lm_head is not stored in the checkpoint and is re-tied after loading.
    `keep_fp8`: an FP8 checkpoint's quantised weights stay FP8 in memory (`Fp8Linear`), dequantised to
    `dtype` per layer, or per chosen expert, at each forward; other checkpoints load as without it.
    `weight_dtype`: the backbone's matrices (`weight_layout.matrix_parameters`) are read straight into
    it, so a float32 copy of them never exists (the MTP heads' are narrowed by the Engine)."""
    config = ModelConfig.from_file(path / "config.json")
    with torch.device("meta"):
        model = MiMoForCausalLM(config)
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    check_weight_dtype(weight_dtype)
    narrow = dict.fromkeys(matrix_parameters(model), weight_dtype) if weight_dtype is not None else {}
    if config.tie_word_embeddings:
        del expected["lm_head.weight"]
    loaded = load_weights(
        path,
        expected,
        quantization_config=config.quantization_config,
        dtype=dtype,
        dtypes=narrow,
        device=device,
        keep_fp8=keep_fp8,
    )
    tied = frozenset({"lm_head.weight"} if config.tie_word_embeddings else ())
    assign_weights(model, loaded.tensors, absent=tied)
    if config.tie_word_embeddings:
        model.lm_head.weight = model.model.embed_tokens.weight
    mtp = MTPHeads.from_tensors(config, loaded.mtp, str(path))
    return model.eval(), mtp
