"""Shared fixtures: one tiny reference model and the engine model holding the same weights."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from transformers import MiMoV2FlashForCausalLM

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.model import MiMoForCausalLM
from tests.engine.tiny_models import tiny_model


def engine_twin(reference: MiMoV2FlashForCausalLM) -> MiMoForCausalLM:
    """The engine model with the reference's weights, loaded by name from its in-memory state_dict."""
    model = MiMoForCausalLM(ModelConfig.from_dict(reference.config.to_dict()))
    model.load_state_dict(reference.state_dict(), strict=True)
    return model.eval()


@pytest.fixture(scope="session", autouse=True)
def single_thread() -> Iterator[None]:
    """Tiny matmuls gain nothing from threads, and on a shared CPU thread spin-waits cost 10-20x."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def reference() -> MiMoV2FlashForCausalLM:
    return tiny_model(seed=0)


@pytest.fixture(scope="session")
def twin(reference: MiMoV2FlashForCausalLM) -> MiMoForCausalLM:
    return engine_twin(reference)


@pytest.fixture(scope="session")
def reference_logits(reference: MiMoV2FlashForCausalLM) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (80,), logits (80, V)): a sequence five windows long and the reference's logits at every position."""
    ids = torch.randint(0, reference.config.vocab_size, (80,), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = reference(ids[None]).logits[0]
    return ids, logits
