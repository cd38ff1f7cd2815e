"""The generation loop: prefix reuse, chunked prefill, per-token logits processors, streaming, stats.

One request at a time (batch size one). The engine remembers which token ids its KV cache holds, so a
prompt that extends the previous prompt + output (the agent resends the conversation each turn) only
prefills the new tokens. With a checkpoint's MTP heads, decoding drafts and verifies several tokens per
target forward (speculative.py); the drafter's caches follow the target cache through prefix reuse.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from mimo_agent.engine.config import ModelConfig
from mimo_agent.engine.draft_weights import int8_drafting
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.kv_cache import DEFAULT_ROLLBACK, KVCache
from mimo_agent.engine.logits import LogitsProcessor
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.mtp_draft import MTPDrafter
from mimo_agent.engine.native import library
from mimo_agent.engine.sampling import Sampler, SamplingParams, StopMatcher
from mimo_agent.engine.speculative import DraftPolicy, SpeculationStats, speculative_decode
from mimo_agent.engine.tokenizer import EngineTokenizer
from mimo_agent.engine.weight_layout import check_weight_dtype, decode_layout, store_weights
from mimo_agent.engine.weights import load_checkpoint

DraftWeights = Literal["int8", "model"]

DEFAULT_PREFILL_CHUNK = 512
DEFAULT_MAX_SEQ_LEN = 32768  # the global-layer cache is allocated up front, so do not default to 256K
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


@dataclass(slots=True)
class StreamDelta:
    token_ids: list[int]
    text: str


@dataclass(slots=True)
class GenerationStats:
    prompt_tokens: int
    reused_prefix_tokens: int
    generated_tokens: int
    prefill_seconds: float
    decode_seconds: float
    tokens_per_second: float
    finish_reason: (
        str  # "stop": stop id, stop string or a finished logits processor; "length": budget or context
    )

    speculation: SpeculationStats | None = None  # MTP drafting, when it ran

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["speculation"] = self.speculation.to_dict() if self.speculation else None
        return out


@dataclass(slots=True)
class GenerationResult:
    token_ids: list[int]  # generated ids, including a stop id that ended generation
    text: str  # detokenised output, without stop ids and cut before a stop string
    stats: GenerationStats


class Engine:
    def __init__(
        self,
        model: MiMoForCausalLM,
        tokenizer: EngineTokenizer | None = None,
        max_seq_len: int | None = None,
        prefill_chunk: int = DEFAULT_PREFILL_CHUNK,
        mtp: MTPHeads | None = None,
        weight_dtype: torch.dtype | None = None,
        draft_weights: DraftWeights = "int8",
    ) -> None:
        """`mtp`: the checkpoint's MTP heads, which enable speculative decoding (`generate(mtp_steps=…)`).
        `weight_dtype`: keep the matrix weights in this dtype (see `weight_layout.store_weights`);
        None keeps the load dtype. `draft_weights`: "int8" drafts with int8 copies of the heads and the
        lm_head where the int8 kernel runs (see `draft_modules`; output unchanged, drafts cheaper),
        "model" with the model's own."""
        if prefill_chunk < 1:
            raise EngineError(f"prefill_chunk={prefill_chunk}: expected a positive number of tokens")
        check_weight_dtype(weight_dtype)
        if draft_weights not in ("int8", "model"):
            raise EngineError(f"draft_weights={draft_weights!r}: expected 'int8' or 'model'")
        limit = model.config.max_position_embeddings
        max_seq_len = max_seq_len or min(limit, DEFAULT_MAX_SEQ_LEN)
        if not 0 < max_seq_len <= limit:
            raise EngineError(
                f"max_seq_len={max_seq_len}: expected 1..{limit} (the model's max_position_embeddings)"
            )
        self.model = model.eval()
        for module in (model, mtp) if mtp is not None else (model,):
            if weight_dtype is not None:
                store_weights(module, weight_dtype)
            decode_layout(module)
        self.config: ModelConfig = model.config
        self.tokenizer = tokenizer
        self.prefill_chunk = prefill_chunk
        weight = model.model.embed_tokens.weight  # activations' dtype, whatever the matrices are stored in
        self.device = weight.device
        self.mtp = mtp
        self.draft_weights = draft_weights
        self._draft_modules: tuple[MTPHeads, nn.Module] | None = None  # see draft_modules
        # Ring slack for rejected drafts: a verify writes k + 1 positions and may keep only one.
        self.rollback = max(DEFAULT_ROLLBACK, len(mtp) + 1) if mtp else DEFAULT_ROLLBACK
        self.cache = KVCache(self.config, max_seq_len, weight.dtype, weight.device, rollback=self.rollback)
        self.cached_ids: list[int] = []  # the tokens whose keys/values the cache holds, in order
        self.drafter: MTPDrafter | None = None  # follows the cache while requests use MTP

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
        max_seq_len: int | None = None,
        prefill_chunk: int = DEFAULT_PREFILL_CHUNK,
        keep_fp8: bool = False,
        weight_dtype: torch.dtype | None = None,
        draft_weights: DraftWeights = "int8",
    ) -> Engine:
        """Model from config.json + safetensors; tokenizer too when the directory ships one.

        `keep_fp8`: an FP8 checkpoint's weights stay FP8 in memory and are dequantised per layer (per
        chosen expert) at each forward: less memory, more compute; no effect on other checkpoints.
        `weight_dtype`, `draft_weights`: as in `__init__`."""
        path = Path(path)
        if not path.is_dir():
            raise EngineError(f"{path}: not a checkpoint directory")
        model, mtp = load_checkpoint(
            path, dtype=dtype, device=device, keep_fp8=keep_fp8, weight_dtype=weight_dtype
        )
        has_tokenizer = any((path / name).is_file() for name in TOKENIZER_FILES)
        tokenizer = EngineTokenizer.from_pretrained(path) if has_tokenizer else None
        return cls(model, tokenizer, max_seq_len, prefill_chunk, mtp, weight_dtype, draft_weights)

    def stop_ids(self, params: SamplingParams) -> set[int]:
        ids = set(params.stop_token_ids) | set(self.config.eos_token_ids)
        return ids | set(self.tokenizer.stop_token_ids) if self.tokenizer else ids

    def encode_prompt(
        self, prompt: Sequence[int] | Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None
    ) -> list[int]:
        if prompt and all(isinstance(m, dict) for m in prompt):
            if self.tokenizer is None:
                raise EngineError("chat messages need a tokenizer, and this checkpoint ships none")
            return self.tokenizer.encode_chat(list(prompt), tools)  # type: ignore[arg-type]
        if tools:
            raise EngineError("tools are rendered by the chat template: pass messages, not token ids")
        ids = [int(t) for t in prompt]  # type: ignore[arg-type]
        if not ids:
            raise EngineError("empty prompt: at least one token is needed to predict the next")
        if not all(0 <= t < self.config.vocab_size for t in ids):
            raise EngineError(
                f"prompt ids must lie in [0, {self.config.vocab_size}) (the model's vocabulary)"
            )
        return ids

    def prefill(self, prompt: list[int]) -> tuple[torch.Tensor, int]:
        """Bring the cache to `prompt`, reusing what it can; return (next-token logits (V,), reused length).

        The cache is marked at the end of every prompt: the next prompt often re-renders the previous
        output differently (another tokenisation, edited history), and the mark still lets it reuse the
        previous prompt even though the rings have moved far past the point of divergence.
        """
        if len(prompt) > self.cache.max_seq_len:
            raise EngineError(f"prompt of {len(prompt)} tokens exceeds max_seq_len={self.cache.max_seq_len}")
        reuse = min(_common_prefix(self.cached_ids, prompt), len(prompt) - 1)
        if reuse < self.cache.length:
            mark = self.cache.mark_length
            if self.cache.can_truncate_to(reuse):
                self.cache.truncate(reuse)
            elif mark is not None and mark <= reuse:
                self.cache.restore()
                reuse = mark
            else:  # the rings no longer hold the window before `reuse`: recompute from the start
                reuse = 0
                self.cache.truncate(0)
        if self.drafter:
            self.drafter.truncate(reuse)
        del self.cached_ids[reuse:]
        logits = self.extend(prompt[reuse:])
        self.cache.mark()
        return logits, reuse

    def extend(self, ids: list[int], catch_up: bool = True) -> torch.Tensor:
        """Run `ids` after the cached context in chunks of `prefill_chunk`; return the last position's logits.

        `catch_up=False` hands the drafter the new hiddens without running its heads over them: it
        catches up in one chunked pass when it next drafts (adaptive drafting off for a while).
        A forward cut short (an error, Ctrl-C) may have overwritten ring slots that are still needed, so
        the cache is then emptied rather than trusted.
        """
        try:
            for start in range(0, len(ids), self.prefill_chunk):
                chunk = ids[start : start + self.prefill_chunk]
                position = self.cache.length
                out = self.model(torch.tensor(chunk, dtype=torch.long, device=self.device), self.cache)
                self.cached_ids.extend(chunk)
                if self.drafter:
                    self.drafter.observe(out.hidden, position)
                    if catch_up:
                        self.drafter.catch_up(self.cached_ids)
        except BaseException:
            self._forget()
            raise
        return out.logits[-1]

    def generate(
        self,
        prompt: Sequence[int] | Sequence[dict[str, Any]],
        params: SamplingParams | None = None,
        logits_processors: Sequence[LogitsProcessor] = (),
        tools: Sequence[dict[str, Any]] | None = None,
        mtp_steps: int | None = None,
        mtp_adaptive: bool = True,
    ) -> Iterator[StreamDelta | GenerationResult]:
        """Yield a `StreamDelta` per generated token, then one `GenerationResult`.

        `mtp_steps`: drafts per verify step with the MTP heads at most (None: one per head; 0: off);
        `mtp_adaptive`: fewer (down to plain decoding) while drafts keep being rejected (`DraftPolicy`),
        else always `mtp_steps`. Greedy output is the same either way, and sampled output has the same
        distribution.
        """
        params = params or SamplingParams()
        prompt_ids = self.encode_prompt(prompt, tools)
        speculation = self._speculation(mtp_steps)
        sampler, stops = Sampler(params), self.stop_ids(params)
        matcher = StopMatcher(params.stop)
        detok = self.tokenizer.detokenizer() if self.tokenizer else None
        started = time.perf_counter()
        logits, reused = self.prefill(prompt_ids)
        prefilled = time.perf_counter()
        generated: list[int] = []
        texts: list[str] = []
        finish = "stop" if any(p.is_finished() for p in logits_processors) else "length"
        policy = DraftPolicy(speculation.draft_tokens) if speculation and mtp_adaptive else None
        tokens = self._tokens(
            logits, sampler, logits_processors, stops, params.max_new_tokens, speculation, policy
        )
        for token, processors_done in [] if finish == "stop" else tokens:
            generated.append(token)
            if token in stops:
                yield StreamDelta([token], "")
                finish = "stop"
                break
            text, hit = matcher.push(detok.push(token)) if detok else ("", False)
            texts.append(text)
            yield StreamDelta([token], text)
            if hit or processors_done:
                finish = "stop"
                break
            if len(generated) == params.max_new_tokens or self.cache.length >= self.cache.max_seq_len:
                break
        if detok and not matcher.stopped:
            tail, _ = matcher.push(detok.flush())
            tail += matcher.flush()
            if tail:
                texts.append(tail)
                yield StreamDelta([], tail)
        decode_seconds = time.perf_counter() - prefilled
        stats = GenerationStats(
            prompt_tokens=len(prompt_ids),
            reused_prefix_tokens=reused,
            generated_tokens=len(generated),
            prefill_seconds=prefilled - started,
            decode_seconds=decode_seconds,
            tokens_per_second=len(generated) / decode_seconds if decode_seconds > 0 else 0.0,
            finish_reason=finish,
            speculation=speculation,
        )
        yield GenerationResult(generated, "".join(texts), stats)

    def _tokens(
        self,
        logits: torch.Tensor,
        sampler: Sampler,
        processors: Sequence[LogitsProcessor],
        stops: set[int],
        budget: int,
        speculation: SpeculationStats | None,
        policy: DraftPolicy | None,
    ) -> Iterator[tuple[int, bool]]:
        """(token, whether a processor finished with it), one at a time: one per forward, or with MTP
        up to k + 1 per verify step. Pulled lazily, so nothing runs past the token that ends generation.
        Processors run ahead to the end of a verify step, where alone they can finish."""
        token, produced = self._choose(logits.float(), sampler, processors), 1
        while True:
            yield token, any(p.is_finished() for p in processors)
            steps = 0 if speculation is None else policy.next_steps() if policy else speculation.draft_tokens
            if steps == 0:
                token = self._choose(self.extend([token], catch_up=False).float(), sampler, processors)
                produced += 1
                if speculation and policy:
                    speculation.plain_steps += 1
                    policy.record_plain()
                continue
            assert speculation is not None and self.drafter is not None
            room = min(budget - produced, self.cache.max_seq_len - self.cache.length) - 1
            try:
                step = speculative_decode(
                    self.model,
                    self.cache,
                    self.drafter,
                    [*self.cached_ids, token],
                    min(steps, room),
                    sampler,
                    processors,
                    stops,
                )
            except BaseException:
                self._forget()
                raise
            speculation.record(step)
            if policy:
                policy.record(step)
            self.cached_ids.extend([token, *step.tokens[:-1]])
            yield from ((t, False) for t in step.tokens[:-1])
            token, produced = step.tokens[-1], produced + len(step.tokens)

    def _speculation(self, mtp_steps: int | None) -> SpeculationStats | None:
        """Check `mtp_steps`, keep a drafter with that many heads (None when off), return fresh stats."""
        available = len(self.mtp) if self.mtp else 0
        steps = available if mtp_steps is None else mtp_steps
        if not 0 <= steps <= available:
            raise EngineError(
                f"mtp_steps={steps}: expected 0..{available} (the checkpoint has {available} MTP layers)"
            )
        if steps == 0:
            self.drafter = None
            return None
        assert self.mtp is not None
        if self.drafter is None or len(self.drafter.rings) != steps:
            heads, head = self.draft_modules()
            self.drafter = MTPDrafter(
                heads, self.model.model.embed_tokens, head, steps, self.rollback, self.prefill_chunk
            )
            self.drafter.restart(self.cache.length)
        return SpeculationStats(steps)

    def draft_modules(self) -> tuple[MTPHeads, nn.Module]:
        """The heads and lm_head that drafts run: with draft_weights="int8", int8 copies made on first
        use where the int8 kernel runs (CPU, float32 activations); else the model's own."""
        assert self.mtp is not None
        if self._draft_modules is None:
            int8 = (
                self.draft_weights == "int8"
                and library() is not None
                and self.device.type == "cpu"
                and self.model.model.embed_tokens.weight.dtype == torch.float32
            )
            self._draft_modules = (
                int8_drafting(self.mtp, self.model.lm_head) if int8 else (self.mtp, self.model.lm_head)
            )
        return self._draft_modules

    def _forget(self) -> None:
        """A forward cut short may have overwritten ring slots still needed: empty the caches instead."""
        self.cache.truncate(0)
        self.cached_ids.clear()
        if self.drafter:
            self.drafter.restart(0)

    def _choose(self, logits: torch.Tensor, sampler: Sampler, processors: Sequence[LogitsProcessor]) -> int:
        for processor in processors:
            logits = processor.process(logits)
        token = sampler.sample(logits)
        for processor in processors:
            if not processor.accept(token):
                raise EngineError(
                    f"logits processor {type(processor).__name__} refused token {token} it allowed"
                )
        return token

    def complete(self, prompt: Sequence[int] | Sequence[dict[str, Any]], **kwargs: Any) -> GenerationResult:
        """Run `generate` to the end and return its result (for callers that do not stream)."""
        for item in self.generate(prompt, **kwargs):
            if isinstance(item, GenerationResult):
                return item
        raise AssertionError("generate always ends with a GenerationResult")


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
