"""Backends by short name, built from the model settings; an unknown name lists the valid ones."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from mimo_agent.backends.base import Backend, BackendError
from mimo_agent.settings import ModelSettings

# name -> "module:callable(settings) -> Backend" (a dotted attribute path is fine); imported lazily so
# `replay` never loads torch.
BACKENDS = {
    "embedded": "mimo_agent.backends.embedded:EmbeddedBackend.from_settings",
    "transformers": "mimo_agent.backends.transformers_backend:TransformersBackend.from_settings",
    "openai": "mimo_agent.backends.openai_backend:OpenAIBackend.from_settings",
    "replay": "mimo_agent.backends.factory:_replay",
}


def _replay(settings: ModelSettings) -> Backend:
    from mimo_agent.backends.replay import ReplayBackend

    if not settings.replay:
        raise BackendError("the replay backend needs --replay FILE (a JSON Lines file of raw model outputs)")
    return ReplayBackend.from_file(Path(settings.replay))


def make_backend(settings: ModelSettings) -> Backend:
    target = BACKENDS.get(settings.backend)
    if target is None:
        raise BackendError(
            f"unknown backend {settings.backend!r}; choose one of: {', '.join(sorted(BACKENDS))}"
        )
    module, _, attr = target.partition(":")
    factory = functools.reduce(getattr, attr.split("."), importlib.import_module(module))
    return factory(settings)
