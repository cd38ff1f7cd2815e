"""The tool-call grammar options local backends (embedded, transformers) derive from the model settings."""

from __future__ import annotations

from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.grammar import GrammarOptions


def grammar_options(settings: ModelSettings) -> GrammarOptions:
    return GrammarOptions(
        format=settings.tool_format, tool_choice=settings.tool_choice, reasoning=settings.enable_thinking
    )
