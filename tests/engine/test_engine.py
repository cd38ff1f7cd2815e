"""Engine.generate: parity with transformers' generate, prefix reuse, chunked prefill, stops, processors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import MiMoV2FlashForCausalLM

from mimo_agent.engine.engine import Engine, GenerationResult, StreamDelta
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.kv_cache import DEFAULT_ROLLBACK
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.sampling import SamplingParams
from tests.engine import checkpoint_writers as cw
from tests.engine.tiny_models import save_tiny, save_tiny_chat

PROMPT = [3, 141, 59, 26, 53, 58, 97, 93, 23, 84]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MiMoV2FlashForCausalLM]:
    path = tmp_path_factory.mktemp("ckpt")
    return path, save_tiny(path, seed=0)


@pytest.fixture(scope="module")
def engine(checkpoint: tuple[Path, MiMoV2FlashForCausalLM]) -> Engine:
    return Engine.from_pretrained(checkpoint[0], max_seq_len=256)


def fresh(engine: Engine, prefill_chunk: int = 512) -> Engine:
    """Another engine over the same weights with an empty cache: the cold-run reference."""
    return Engine(engine.model, engine.tokenizer, max_seq_len=256, prefill_chunk=prefill_chunk)


def greedy(n: int, **kwargs: object) -> SamplingParams:
    return SamplingParams(max_new_tokens=n, **kwargs)  # type: ignore[arg-type]


def test_greedy_64_tokens_equal_transformers_generate(
    checkpoint: tuple[Path, MiMoV2FlashForCausalLM], engine: Engine
) -> None:
    _, reference = checkpoint
    reference.generation_config.eos_token_id = None
    out = reference.generate(torch.tensor([PROMPT]), max_new_tokens=64, do_sample=False, pad_token_id=0)
    result = fresh(engine).complete(PROMPT, params=greedy(64))
    assert result.token_ids == out[0, len(PROMPT) :].tolist()
    assert result.stats.generated_tokens == 64 and result.stats.finish_reason == "length"


def test_hub_layout_sharded_checkpoint_gives_identical_logits(
    checkpoint: tuple[Path, MiMoV2FlashForCausalLM], engine: Engine, tmp_path: Path
) -> None:
    """Hub config spelling, per-expert tensors, `attention_sink_bias`, `model.mtp.*`, three shards."""
    hub = cw.shard(cw.to_hub_layout(checkpoint[0], tmp_path / "hub"), tmp_path / "sharded")
    from_hub = Engine.from_pretrained(hub, max_seq_len=64)
    assert from_hub.config.layer_types == engine.config.layer_types
    assert all(torch.equal(t, engine.model.state_dict()[n]) for n, t in from_hub.model.state_dict().items())
    # Same weights; only BLAS kernel choice (buffer alignment) may move the last bit.
    assert torch.allclose(from_hub.prefill(PROMPT)[0], fresh(engine).prefill(PROMPT)[0], atol=1e-6, rtol=0)


def test_fp8_checkpoint_runs_close_to_the_unquantised_model(
    checkpoint: tuple[Path, MiMoV2FlashForCausalLM], engine: Engine, tmp_path: Path
) -> None:
    quantised = Engine.from_pretrained(cw.quantize_fp8(checkpoint[0], tmp_path / "fp8"), max_seq_len=64)
    got, expected = quantised.prefill(PROMPT)[0], fresh(engine).prefill(PROMPT)[0]
    assert not torch.equal(got, expected)
    assert torch.nn.functional.cosine_similarity(got, expected, dim=0) > 0.99


def test_stream_then_result(engine: Engine) -> None:
    items = list(fresh(engine).generate(PROMPT, greedy(5)))
    deltas, result = items[:-1], items[-1]
    assert all(isinstance(d, StreamDelta) for d in deltas) and isinstance(result, GenerationResult)
    assert [t for d in deltas for t in d.token_ids] == result.token_ids
    stats = result.stats
    assert (stats.prompt_tokens, stats.reused_prefix_tokens, stats.generated_tokens) == (10, 0, 5)
    assert stats.prefill_seconds > 0 and stats.decode_seconds > 0 and stats.tokens_per_second > 0


@pytest.mark.parametrize("chunk", [1, 3, 16, 40])
def test_chunked_prefill_equals_one_shot(engine: Engine, chunk: int) -> None:
    prompt = [(7 * i + 3) % 256 for i in range(70)]
    one_shot, _ = fresh(engine).prefill(prompt)
    chunked, _ = fresh(engine, prefill_chunk=chunk).prefill(prompt)
    assert torch.allclose(chunked, one_shot, atol=1e-5, rtol=0)


def test_extending_prompt_reuses_prompt_and_output(engine: Engine) -> None:
    warm = fresh(engine)
    first = warm.complete(PROMPT, params=greedy(8))
    follow_up = PROMPT + first.token_ids + [5, 6, 7]
    second = warm.complete(follow_up, params=greedy(8))
    assert second.stats.reused_prefix_tokens == len(PROMPT) + 8 - 1  # the last output token was never fed
    cold = fresh(engine).complete(follow_up, params=greedy(8))
    assert second.token_ids == cold.token_ids
    assert torch.allclose(warm.prefill(follow_up)[0], fresh(engine).prefill(follow_up)[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("diverge_at", "expect_reuse"),
    [(58, True), (60 - DEFAULT_ROLLBACK, True), (40, False), (3, False)],
    ids=["within-spare-slots", "at-the-limit", "ring-overwritten", "near-start"],
)
def test_diverging_prompt_never_gives_wrong_logits(
    engine: Engine, diverge_at: int, expect_reuse: bool
) -> None:
    cached = [(5 * i + 1) % 256 for i in range(60)]
    prompt = cached[:diverge_at] + [200, 201, 202]
    warm = fresh(engine)
    warm.prefill(cached)
    logits, reused = warm.prefill(prompt)
    assert reused == (diverge_at if expect_reuse else 0)
    assert torch.allclose(logits, fresh(engine).prefill(prompt)[0], atol=1e-5, rtol=0)


def test_prompt_that_is_a_prefix_of_the_cache(engine: Engine) -> None:
    cached = list(range(1, 61))
    warm = fresh(engine)
    warm.prefill(cached)
    logits, reused = warm.prefill(cached[:58])
    assert reused == 57
    assert torch.allclose(logits, fresh(engine).prefill(cached[:58])[0], atol=1e-5, rtol=0)


def test_stop_token_id_ends_generation(engine: Engine) -> None:
    free = fresh(engine).complete(PROMPT, params=greedy(10))
    stop = free.token_ids[3]
    first = free.token_ids.index(stop)
    result = fresh(engine).complete(PROMPT, params=greedy(10, stop_token_ids=[stop]))
    assert result.token_ids == free.token_ids[: first + 1]
    assert result.stats.finish_reason == "stop"


def test_seeded_sampling_is_reproducible(engine: Engine) -> None:
    params = SamplingParams(temperature=1.0, top_p=0.9, max_new_tokens=12, seed=11)
    a = fresh(engine).complete(PROMPT, params=params)
    b = fresh(engine).complete(PROMPT, params=params)
    assert a.token_ids == b.token_ids


class OnlyTokens:
    """A real logits processor: allows one fixed token sequence, then reports itself finished."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = tokens
        self.accepted: list[int] = []

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        masked = torch.full_like(logits, float("-inf"))
        masked[self.tokens[len(self.accepted)]] = 0.0
        return masked

    def accept(self, token_id: int) -> bool:
        if token_id != self.tokens[len(self.accepted)]:
            return False
        self.accepted.append(token_id)
        return True

    def rollback(self, num_tokens: int) -> None:
        del self.accepted[len(self.accepted) - num_tokens :]

    def is_finished(self) -> bool:
        return len(self.accepted) == len(self.tokens)


def test_logits_processor_shapes_every_step_and_finishes(engine: Engine) -> None:
    processor = OnlyTokens([9, 8, 7])
    result = fresh(engine).complete(PROMPT, params=greedy(10), logits_processors=[processor])
    assert result.token_ids == [9, 8, 7] and processor.accepted == [9, 8, 7]
    assert result.stats.finish_reason == "stop"


class BanInPlace:
    """Masks in place, as xgrammar's `apply_token_bitmask_inplace` does on the engine's logits."""

    def __init__(self, banned: int) -> None:
        self.banned = banned

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        logits[self.banned] = float("-inf")
        return logits

    def accept(self, token_id: int) -> bool:
        return token_id != self.banned

    def rollback(self, num_tokens: int) -> None:
        pass

    def is_finished(self) -> bool:
        return False


def test_processor_may_edit_logits_in_place(engine: Engine) -> None:
    free = fresh(engine).complete(PROMPT, params=greedy(6))
    banned = free.token_ids[0]
    result = fresh(engine).complete(PROMPT, params=greedy(6), logits_processors=[BanInPlace(banned)])
    assert banned not in result.token_ids and len(result.token_ids) == 6


def test_context_limit_ends_with_length(engine: Engine) -> None:
    small = Engine(engine.model, max_seq_len=16)
    result = small.complete(PROMPT, params=greedy(50))
    assert result.stats.finish_reason == "length" and len(PROMPT) + len(result.token_ids) == 17
    with pytest.raises(EngineError, match="max_seq_len=16"):
        small.complete(list(range(20)), params=greedy(1))


def test_bad_requests(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="empty prompt"):
        fresh(engine).complete([])
    with pytest.raises(EngineError, match="vocabulary"):
        fresh(engine).complete([999])
    with pytest.raises(EngineError, match="pass messages"):
        fresh(engine).complete(PROMPT, tools=[{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(EngineError, match="tokenizer"):
        fresh(engine).complete([{"role": "user", "content": "hi"}])
    with pytest.raises(EngineError, match="max_position_embeddings"):
        Engine(engine.model, max_seq_len=4096)
    with pytest.raises(EngineError, match="not a checkpoint directory"):
        Engine.from_pretrained(tmp_path / "missing")


@pytest.fixture(scope="module")
def chat_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("chat")
    save_tiny_chat(path, seed=4)
    return Engine.from_pretrained(path, max_seq_len=512)


def test_chat_messages_stream_text_that_decodes_the_ids(chat_engine: Engine) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris? Café 中文"}]
    items = list(Engine(chat_engine.model, chat_engine.tokenizer).generate(messages, greedy(40)))
    result = items[-1]
    assert isinstance(result, GenerationResult)
    streamed = "".join(d.text for d in items[:-1] if isinstance(d, StreamDelta))
    kept = [t for t in result.token_ids if t not in chat_engine.tokenizer.stop_token_ids]
    assert streamed == result.text == chat_engine.tokenizer.decode(kept)
    assert result.stats.prompt_tokens == len(chat_engine.tokenizer.encode_chat(messages))


def test_stop_string_cuts_the_text(chat_engine: Engine) -> None:
    messages = [{"role": "user", "content": "Please read the file and fix the bug."}]
    free = Engine(chat_engine.model, chat_engine.tokenizer).complete(messages, params=greedy(30))
    assert len(free.text) > 6, free.text
    stop = free.text[3:6]
    cut = Engine(chat_engine.model, chat_engine.tokenizer).complete(messages, params=greedy(30, stop=[stop]))
    assert cut.text == free.text[: free.text.index(stop)]
    assert cut.stats.finish_reason == "stop"


def test_engine_model_is_the_plain_pytorch_model(engine: Engine) -> None:
    assert isinstance(engine.model, MiMoForCausalLM)
    assert engine.cache.layers[0].k.dtype == torch.float32


def test_divergence_inside_the_previous_output_reuses_the_previous_prompt(engine: Engine) -> None:
    """The agent re-renders the last answer (e.g. another tokenisation) far past the ring's spare slots."""
    warm = fresh(engine)
    first = warm.complete(PROMPT, params=greedy(40))
    rerendered = PROMPT + first.token_ids[:5] + [17, 18] + first.token_ids[7:] + [9, 9]
    logits, reused = warm.prefill(rerendered)
    assert reused == len(PROMPT)
    assert torch.allclose(logits, fresh(engine).prefill(rerendered)[0], atol=1e-5, rtol=0)
    # The mark moved to the end of this prompt; an edit before it falls back to a cold start.
    edited = [1] + rerendered[1:]
    logits, reused = warm.prefill(edited)
    assert reused == 0
    assert torch.allclose(logits, fresh(engine).prefill(edited)[0], atol=1e-5, rtol=0)


def test_interrupted_prefill_empties_the_cache(engine: Engine) -> None:
    """A chunk cut short may have overwritten ring slots still needed: nothing of it may be reused."""
    warm = fresh(engine, prefill_chunk=8)
    warm.prefill(list(range(1, 41)))
    calls = 0

    def interrupt_second_chunk(*_: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    hook = warm.model.model.layers[3].register_forward_hook(interrupt_second_chunk)
    prompt = list(range(1, 41)) + list(range(100, 130))
    try:
        with pytest.raises(KeyboardInterrupt):
            warm.prefill(prompt)
    finally:
        hook.remove()
    assert warm.cache.length == 0 and warm.cached_ids == []
    logits, reused = warm.prefill(prompt)
    assert reused == 0
    assert torch.allclose(logits, fresh(engine).prefill(prompt)[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_runs_close_to_float32(
    checkpoint: tuple[Path, MiMoV2FlashForCausalLM], engine: Engine, dtype: torch.dtype
) -> None:
    """The published weights are bf16: the router stays fp32, sinks and masks follow the activations."""
    half = Engine.from_pretrained(checkpoint[0], dtype=dtype, max_seq_len=64, prefill_chunk=4)
    assert half.model.model.layers[1].mlp.gate.e_score_correction_bias.dtype == torch.float32
    assert half.cache.layers[1].k.dtype == dtype
    prompt = PROMPT * 3  # 30 tokens: past the 16-token window, in chunks, then decode
    result = half.complete(prompt, params=greedy(4))
    assert len(result.token_ids) == 4
    got, expected = (
        half.prefill(prompt + result.token_ids)[0].float(),
        fresh(engine).prefill(prompt + result.token_ids)[0],
    )
    assert torch.nn.functional.cosine_similarity(got, expected, dim=0) > 0.99


def test_tools_are_rendered_into_the_chat_prompt(chat_engine: Engine) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    result = Engine(chat_engine.model, chat_engine.tokenizer).complete(
        messages, params=greedy(2), tools=tools
    )
    with_tools = chat_engine.tokenizer.encode_chat(messages, tools)
    assert result.stats.prompt_tokens == len(with_tools) > len(chat_engine.tokenizer.encode_chat(messages))
