"""The embedded engine as an agent backend: chat template in, grammar-constrained raw text out.

Tool calls are constrained by the tool-calling layer's grammar (prose and `<think>` stay free), so a
call the engine emits always names a declared tool with schema-valid arguments. The engine keeps its KV
cache between turns, so the agent's append-only history is only prefilled where it is new.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.backends.local_grammar import grammar_options
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
        self._last_prompt: tuple[str, list[int]] | None = None  # (conversation key, prompt ids)

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> EmbeddedBackend:
        if not settings.path:
            raise BackendError("the embedded backend needs --model DIR (a checkpoint directory)")
        path = Path(settings.path)
        try:
            # The KV cache is allocated up front: no larger than the model can address.
            limit = ModelConfig.from_file(path).max_position_embeddings
            engine = Engine.from_pretrained(
                path, max_seq_len=min(settings.context_window, limit), keep_fp8=settings.keep_fp8
            )
        except EngineError as exc:
            raise BackendError(str(exc)) from exc
        return cls(engine, settings)

    def _prompt(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> list[int]:
        # The loop counts tokens and then completes the same conversation: render and encode it once.
        key = json.dumps([list(messages), [t.name for t in tools]], sort_keys=True, default=str)
        if self._last_prompt is not None and self._last_prompt[0] == key:
            return self._last_prompt[1]
        try:
            ids = self.tokenizer.encode_chat(
                list(messages),
                [t.to_openai() for t in tools] or None,
                add_generation_prompt=True,
                enable_thinking=self.settings.enable_thinking,
            )
        except EngineError as exc:
            raise BackendError(f"cannot render the conversation: {exc}") from exc
        self._last_prompt = (key, ids)
        return ids

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        return len(self._prompt(messages, tools))

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        prompt = self._prompt(messages, tools)
        room = self.engine.cache.max_seq_len - len(prompt)
        if room < 1:
            raise BackendError(f"the conversation ({len(prompt)} tokens) fills the context ({self.engine.cache.max_seq_len})")
        params = SamplingParams(
            temperature=self.settings.temperature,
            top_p=self.settings.top_p if self.settings.temperature > 0 else 1.0,
            max_new_tokens=min(self.settings.max_new_tokens, room),
        )
        processors = []
        if tools:
            processors.append(GrammarLogitsProcessor(self.grammars.tool_calls(tools, grammar_options(self.settings))))
        started = time.perf_counter()
        result: GenerationResult | None = None
        try:
            for item in self.engine.generate(prompt, params, logits_processors=processors):
                if isinstance(item, GenerationResult):
                    result = item
                elif item.text and on_delta is not None:
                    on_delta(item.text)
        except EngineError as exc:
            raise BackendError(str(exc)) from exc
        assert result is not None, "generate always ends with a result"
        stats = result.stats.to_dict() | {"seconds": round(time.perf_counter() - started, 3)}
        if result.stats.speculation is not None:  # what the status bar and the demo report
            stats["mtp_accepted_length"] = result.stats.speculation.accepted_length
        usage = Usage(len(prompt), result.stats.generated_tokens, result.stats.reused_prefix_tokens)
        return Completion(text=result.text, finish_reason=result.stats.finish_reason, usage=usage, stats=stats)
