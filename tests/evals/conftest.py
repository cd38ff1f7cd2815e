"""A demo-model checkpoint built once per session by the real pipeline, at a size that takes seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mimo_agent.evals.tiny_model.build import build
from mimo_agent.evals.tiny_model.train import TrainOptions


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """(checkpoint, work folder, report) of `make tiny-model` on two training tasks for one epoch."""
    root = tmp_path_factory.mktemp("tiny-build")
    out, work = root / "model", root / "work"
    report = build(out, work, train_tasks=2, val_tasks=1, variants=1, workers=1,
                   options=TrainOptions(epochs=1, warmup_steps=1))  # fmt: skip
    return out, work, report
