"""The embedded engine as an agent backend: chat template in, grammar-constrained raw text out.

Tool calls are constrained by the tool-calling layer's grammar (prose and `<think>` stay free), so a
call the engine emits always names a declared tool with schema-valid arguments. The engine keeps its KV
cache between turns, so the agent's append-only history is only prefilled where it is new.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.backends.local_grammar import grammar_options
from mimo_agent.backends.local_prompt import PromptEncoder, split_boundary
from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.engine import Engine, GenerationResult
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.grammar import GrammarCompiler
from mimo_agent.toolcalls.logits_processor import GrammarLogitsProcessor


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, engine: Engine, settings: ModelSettings) -> None:
        if engine.tokenizer is None:
            raise BackendError("the checkpoint ships no tokenizer; the embedded backend needs one for chat")
        self.engine = engine
        self.settings = settings
        self.tokenizer = engine.tokenizer
        self.grammars = GrammarCompiler.from_tokenizer(self.tokenizer.hf, vocab_size=engine.config.vocab_size)
        self._prompts = PromptEncoder(self._render, self.tokenizer.encode, split_boundary(self.tokenizer.hf))

    @property
    def context_limit(self) -> int:
        """The engine's KV cache length: the most tokens a conversation can reach here."""
        return self.engine.cache.max_seq_len

    def count_text(self, text: str) -> int:
        return len(self.tokenizer.encode(text))

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> EmbeddedBackend:
        if not settings.path:
            raise BackendError("the embedded backend needs --model DIR (a checkpoint directory)")
        path = Path(settings.path)
        try:
            # The KV cache is allocated up front: no larger than the model can address.
            limit = ModelConfig.from_file(path).max_position_embeddings
            engine = Engine.from_pretrained(
                path,
                max_seq_len=min(settings.context_window, limit),
                keep_fp8=settings.keep_fp8,
                weight_dtype=None if settings.weight_dtype is None else getattr(torch, settings.weight_dtype),
            )
        except EngineError as exc:
            raise BackendError(str(exc)) from exc
        return cls(engine, settings)

    def _render(self, messages: list[Message], tools: list[dict[str, Any]] | None) -> str:
        try:
            return self.tokenizer.render_chat(
                messages, tools, add_generation_prompt=True, enable_thinking=self.settings.enable_thinking
            )
        except EngineError as exc:
            raise BackendError(f"cannot render the conversation: {exc}") from exc

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        return len(self._prompts.ids(messages, tools))

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion:
        prompt = self._prompts.ids(messages, tools)
        room = self.engine.cache.max_seq_len - len(prompt)
        if room < 1:
            raise BackendError(
                f"the conversation ({len(prompt)} tokens) fills the context ({self.engine.cache.max_seq_len})"
            )
        params = SamplingParams(
            temperature=self.settings.temperature,
            top_p=self.settings.top_p if self.settings.temperature > 0 else 1.0,
            max_new_tokens=min(self.settings.max_new_tokens, room),
        )
        processors = []
        if tools:
            processors.append(
                GrammarLogitsProcessor(self.grammars.tool_calls(tools, grammar_options(self.settings)))
            )
        started = time.perf_counter()
        result: GenerationResult | None = None
        texts: list[str] = []
        generated = 0
        stream = self.engine.generate(prompt, params, logits_processors=processors)
        try:
            for item in stream:
                if isinstance(item, GenerationResult):
                    result = item
                    break
                texts.append(item.text)
                generated += len(item.token_ids)
                if item.text and on_delta is not None:
                    on_delta(item.text)
                if cancel is not None and cancel.is_set():
                    break  # between tokens: the engine keeps what it cached; the next prefill reuses the common prefix
        except EngineError as exc:
            raise BackendError(str(exc)) from exc
        finally:
            stream.close()
        seconds = round(time.perf_counter() - started, 3)
        if result is None:
            assert cancel is not None and cancel.is_set(), "generate always ends with a result"
            text = "".join(texts)
            usage = Usage(len(prompt), generated)
            return Completion(text=text, finish_reason="interrupted", usage=usage, stats={"seconds": seconds})
        stats = result.stats.to_dict() | {"seconds": seconds}
        if result.stats.speculation is not None:  # what the status bar and the demo report
            stats["mtp_accepted_length"] = result.stats.speculation.accepted_length
        usage = Usage(len(prompt), result.stats.generated_tokens, result.stats.reused_prefix_tokens)
        return Completion(
            text=result.text, finish_reason=result.stats.finish_reason, usage=usage, stats=stats
        )
