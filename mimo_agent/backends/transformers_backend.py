"""Any local transformers causal LM as an agent backend, constrained by the same tool-call grammar.

The model directory is loaded with `local_files_only=True` (never a hub). Its own chat template renders
the conversation; the grammar arrives as a transformers logits processor, so a model that is not MiMo
still cannot emit an invalid call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import StoppingCriteria

from mimo_agent.backends.base import BackendError, Completion, Message, Usage
from mimo_agent.backends.local_grammar import grammar_options
from mimo_agent.backends.local_prompt import PromptEncoder, split_boundary
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.grammar import GrammarCompiler
from mimo_agent.toolcalls.logits_processor import TransformersGrammarProcessor


class _Cancelled(StoppingCriteria):
    """Stops `generate`, running in its own thread, between tokens once `cancel` is set."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full(
            (input_ids.shape[0],), self.cancel.is_set(), dtype=torch.bool, device=input_ids.device
        )


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, settings: ModelSettings) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        vocab = model.get_output_embeddings().weight.shape[0]
        self.grammars = GrammarCompiler.from_tokenizer(tokenizer, vocab_size=vocab)
        self._prompts = PromptEncoder(self._render, self._encode, split_boundary(tokenizer))
        limit = getattr(model.config, "max_position_embeddings", None)
        self.context_limit: int | None = limit if isinstance(limit, int) else None

    def count_text(self, text: str) -> int:
        return len(self._encode(text))

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> TransformersBackend:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not settings.path:
            raise BackendError("the transformers backend needs --model DIR (a local model directory)")
        path = Path(settings.path)
        if not path.is_dir():
            raise BackendError(f"{path}: no such model directory")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise BackendError(f"{path}: cannot load the model: {str(exc).splitlines()[0]}") from exc
        return cls(model, tokenizer, settings)

    def _render(self, messages: list[Message], tools: list[dict[str, Any]] | None) -> str:
        try:
            return self.tokenizer.apply_chat_template(
                messages,
                tools=tools,
                add_generation_prompt=True,
                tokenize=False,
                enable_thinking=self.settings.enable_thinking,
            )
        except Exception as exc:  # jinja errors from a third-party template have no common base class
            raise BackendError(f"the model's chat template failed: {exc}") from exc

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
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        prompt = self._prompts.ids(messages, tools)
        processors = []
        if tools:
            processors.append(
                TransformersGrammarProcessor(self.grammars.tool_calls(tools, grammar_options(self.settings)))
            )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=False)
        sampling = self.settings.temperature > 0
        stop_ids = [
            i
            for i in (self.tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>"))
            if isinstance(i, int) and i != self.tokenizer.unk_token_id
        ]
        kwargs: dict[str, Any] = dict(
            input_ids=torch.tensor([prompt]),
            attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
            max_new_tokens=self.settings.max_new_tokens,
            do_sample=sampling,
            logits_processor=processors,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_Cancelled(cancel or threading.Event())]),
            eos_token_id=stop_ids or self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.pad_token_id or (stop_ids[0] if stop_ids else 0),
        )
        if sampling:
            kwargs.update(temperature=self.settings.temperature, top_p=self.settings.top_p)
        result: dict[str, Any] = {}

        def generate() -> None:
            try:
                with torch.no_grad():
                    result["ids"] = self.model.generate(**kwargs)[0, len(prompt) :].tolist()
            except Exception as exc:  # surfaced on the calling thread below
                result["error"] = exc
                streamer.end()

        started = time.perf_counter()
        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        for text in streamer:
            if text and on_delta is not None:
                on_delta(text)
        worker.join()
        if "error" in result:
            raise BackendError(f"generation failed: {result['error']}")
        ids = [t for t in result["ids"] if t not in stop_ids]
        finish = "stop" if len(ids) < len(result["ids"]) else "length"
        if finish == "length" and cancel is not None and cancel.is_set():
            finish = "interrupted"
        seconds = time.perf_counter() - started
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        stats = {
            "generated_tokens": len(result["ids"]),
            "seconds": round(seconds, 3),
            "tokens_per_second": len(result["ids"]) / seconds if seconds > 0 else 0.0,
        }
        return Completion(
            text=text, finish_reason=finish, usage=Usage(len(prompt), len(result["ids"])), stats=stats
        )
