"""A finished conversation as training text: the packaged chat template applied with the agent's tools.

Rendering goes through transformers' own template renderer with the same message normalisation as
`EngineTokenizer.render_chat`, so the text is what the embedded backend would feed the model, without
needing a trained tokenizer first. Each assistant span is what the model must write at that turn:
from the end of the generation prompt (`<|im_start|>assistant\\n<think></think>`) to its `<|im_end|>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transformers.utils.chat_template_utils import render_jinja_template

from mimo_agent.engine.tokenizer import normalize_messages, packaged_chat_template

END_OF_TURN = "<|im_end|>"


class RenderError(ValueError):
    """The template did not render the conversation append-only (a turn changed once later ones came)."""


@dataclass(frozen=True)
class RenderedConversation:
    text: str
    assistant_spans: list[tuple[int, int]]  # [start, end) character offsets, one per assistant turn


def render(
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]],
    add_generation_prompt: bool = False,
    chat_template: str | None = None,
) -> str:
    """The chat text for `messages` and OpenAI-style `tools`, thinking off (as the agent runs the model)."""
    rendered, _ = render_jinja_template(
        conversations=[normalize_messages(messages)],
        tools=list(tools) or None,
        chat_template=chat_template or packaged_chat_template(),
        add_generation_prompt=add_generation_prompt,
        enable_thinking=False,
    )
    return rendered[0]


def render_with_spans(
    messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]], chat_template: str | None = None
) -> RenderedConversation:
    """The full text plus, per assistant turn, the span after its generation prompt through `<|im_end|>`."""
    template = chat_template or packaged_chat_template()
    text = render(messages, tools, chat_template=template)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(messages[:index], tools, add_generation_prompt=True, chat_template=template)
        upto = render(messages[: index + 1], tools, chat_template=template)
        if not (upto.startswith(prompt) and text.startswith(upto) and upto.endswith(END_OF_TURN)):
            raise RenderError(
                f"messages[{index}]: the rendered history is not a prefix of the whole conversation"
            )
        spans.append((len(prompt), len(upto)))
    return RenderedConversation(text, spans)
