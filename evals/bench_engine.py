"""Engine benchmark on a ~100M-parameter "mini MiMo" (prints JSON; not a test).

Same random weights in this engine and in transformers' MiMoV2FlashForCausalLM (eager attention, eager
experts), greedy, CPU float32, one torch thread; then the same with every matrix rounded to bfloat16 on
both sides (a bfloat16 checkpoint), which the engine keeps in bfloat16 (`weight_dtype`, float32
arithmetic) while transformers runs it in float32 and in bfloat16, the faster of the two counting. Decode speed is tokens per CPU second of this process
(`time.process_time`), so a shared, oversubscribed machine does not skew the comparison; prefill
speed is measured the same way. Reports: decode speed of both at a short and a long context (greedy
outputs must match), prefill speed with the peak memory rise per prompt length and chunk (it should
follow the chunk, not the prompt), peak RSS, KV-cache bytes at 32K/256K against every layer global
(with each layer's own kv heads, and shaped like the global layers), the bytes the engine really
allocates against that theory, and the real model's layout computed from its published config.

    .venv/bin/python -m mimo_agent.evals.bench_engine [--decode-tokens 32] [--decode-contexts 160 4096]
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import json
import resource
import time
from pathlib import Path
from typing import Any

import torch
from transformers import DynamicCache, MiMoV2FlashConfig, MiMoV2FlashForCausalLM

from mimo_agent.engine.config import GLOBAL, ModelConfig
from mimo_agent.engine.engine import Engine, GenerationResult
from mimo_agent.engine.kv_cache import DEFAULT_ROLLBACK, KVCache
from mimo_agent.engine.linear import linear
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.sampling import SamplingParams

# The published XiaomiMiMo/MiMo-V2-Flash config.json (hub spelling), as in shared/reference §1.
MIMO_V2_FLASH_CONFIG: dict[str, Any] = {
    "architectures": ["MiMoV2FlashForCausalLM"],
    "model_type": "mimo_v2_flash",
    "vocab_size": 152576,
    "hidden_size": 4096,
    "num_hidden_layers": 48,
    "num_attention_heads": 64,
    "swa_num_attention_heads": 64,
    "num_key_value_heads": 4,
    "swa_num_key_value_heads": 8,
    "head_dim": 192,
    "swa_head_dim": 192,
    "v_head_dim": 128,
    "swa_v_head_dim": 128,
    "hybrid_layer_pattern": [0 if i == 0 or (i + 1) % 6 == 0 else 1 for i in range(48)],
    "sliding_window": 128,
    "sliding_window_size": 128,
    "attention_chunk_size": 128,
    "add_swa_attention_sink_bias": True,
    "add_full_attention_sink_bias": False,
    "attention_value_scale": 0.707,
    "rope_theta": 5000000,
    "swa_rope_theta": 10000,
    "partial_rotary_factor": 0.334,
    "layernorm_epsilon": 1e-5,
    "hidden_act": "silu",
    "attention_bias": False,
    "intermediate_size": 16384,
    "moe_layer_freq": [0] + [1] * 47,
    "n_routed_experts": 256,
    "num_experts_per_tok": 8,
    "moe_intermediate_size": 2048,
    "n_shared_experts": None,
    "scoring_func": "sigmoid",
    "topk_method": "noaux_tc",
    "n_group": 1,
    "topk_group": 1,
    "norm_topk_prob": True,
    "routed_scaling_factor": None,
    "tie_word_embeddings": False,
    "max_position_embeddings": 262144,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "quant_method": "fp8",
        "fmt": "e4m3",
        "activation_scheme": "dynamic",
        "weight_block_size": [128, 128],
        "ignored_layers": [f"model.layers.{i}.self_attn.o_proj" for i in range(48)],
    },
}


def mini_config() -> dict[str, Any]:
    """~100M-parameter MiMo keeping the real proportions (transformers spelling, to build the reference)."""
    return dict(
        vocab_size=16384,
        hidden_size=512,
        intermediate_size=2048,  # dense layer 0: 4× hidden, as 16384 / 4096
        moe_intermediate_size=192,
        num_hidden_layers=12,  # transformers' default rule puts global attention at 0, 5, 11
        num_attention_heads=16,
        num_key_value_heads=1,  # global 16:1, sliding 2 kv heads (8:1), as 64:4 and 64:8
        head_dim=192,
        v_head_dim=128,
        n_routed_experts=16,
        num_experts_per_tok=2,
        sliding_window_size=128,
        max_position_embeddings=16384,
        rms_norm_eps=1e-5,
        attention_value_scale=0.707,
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
        tie_word_embeddings=False,
    )


def build_models(seed: int) -> tuple[MiMoV2FlashForCausalLM, MiMoForCausalLM]:
    torch.manual_seed(seed)
    config = MiMoV2FlashConfig(**mini_config())
    config._attn_implementation = "eager"
    reference = MiMoV2FlashForCausalLM(config).to(torch.float32).eval()
    with torch.no_grad():  # transformers initialises these to constants; random values exercise them
        for name, tensor in [*reference.named_parameters(), *reference.named_buffers()]:
            if name.endswith("sinks"):
                tensor.normal_(0.0, 1.0)
            elif name.endswith("e_score_correction_bias"):
                tensor.normal_(0.0, 0.1)
    reference.set_experts_implementation("eager")
    return reference, engine_twin(reference)


def engine_twin(reference: MiMoV2FlashForCausalLM) -> MiMoForCausalLM:
    """The engine model holding the reference's current weights."""
    model = MiMoForCausalLM(ModelConfig.from_dict(reference.config.to_dict(), source="mini_config()"))
    model.load_state_dict(reference.state_dict(), strict=True)
    return model.eval()


def round_to_bfloat16(module: torch.nn.Module) -> None:
    """Every matrix to its nearest bfloat16 value, kept float32 (what a bfloat16 checkpoint loads as)."""
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() >= 2:
                parameter.copy_(parameter.bfloat16().float())


def bfloat16_checkpoint(reference: MiMoV2FlashForCausalLM) -> MiMoForCausalLM:
    """Round the reference's matrices to bfloat16 in place; an engine model holding the same values."""
    round_to_bfloat16(reference)
    return engine_twin(reference)


class _ArrivalClock:
    """A `generate` streamer that only notes when ids arrive: first the prompt, then each new token."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def put(self, _value: torch.Tensor) -> None:
        self.times.append(time.process_time())

    def end(self) -> None:
        pass


def reference_decode(
    reference: MiMoV2FlashForCausalLM, prompt: list[int], tokens: int, chunk: int
) -> tuple[list[int], float]:
    """(greedy ids, decode tokens per CPU second): the tokens after the first, over the CPU time after it.

    All but the last prompt token are prefilled through transformers' own forward in chunks (eager
    prefill of a long prompt in one go would hold (heads, T, T) scores per layer); `generate` then
    runs the last prompt token and the decode on that cache.
    """
    cache = DynamicCache(config=reference.config)
    with torch.no_grad():
        for start in range(0, len(prompt) - 1, chunk):
            reference(torch.tensor([prompt[start : min(start + chunk, len(prompt) - 1)]]), cache=cache)
        clock = _ArrivalClock()
        out = reference.generate(
            torch.tensor([prompt]),
            cache=cache,
            max_new_tokens=tokens,
            do_sample=False,
            pad_token_id=0,
            eos_token_id=None,
            streamer=clock,
        )
    return out[0, len(prompt) :].tolist(), (tokens - 1) / (clock.times[-1] - clock.times[1])


def engine_decode(
    model: MiMoForCausalLM,
    prompt: list[int],
    tokens: int,
    chunk: int,
    weight_dtype: torch.dtype | None = None,
) -> tuple[list[int], float]:
    """Same measure as `reference_decode`, on the engine's stream of deltas."""
    engine = Engine(
        model, max_seq_len=len(prompt) + tokens + 1, prefill_chunk=chunk, weight_dtype=weight_dtype
    )
    times: list[float] = []
    for item in engine.generate(prompt, SamplingParams(max_new_tokens=tokens)):
        times.append(time.process_time())
        if isinstance(item, GenerationResult):
            ids = item.token_ids
    return ids, (tokens - 1) / (times[tokens - 1] - times[0])


def decode_prompt(config: ModelConfig, context: int) -> list[int]:
    """The random prompt every decode comparison uses."""
    return torch.randint(
        0, config.vocab_size, (context,), generator=torch.Generator().manual_seed(2)
    ).tolist()


def decode_compare(
    references: dict[str, MiMoV2FlashForCausalLM],
    model: MiMoForCausalLM,
    context: int,
    tokens: int,
    chunk: int,
    repeats: int,
    weight_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """The engine and each transformers reference (by dtype name; the first holds the engine's exact
    values) `repeats` times, taken in turn (a burst of load on the shared machine hits all alike); each
    keeps its fastest run, and the speed-up is over the fastest reference."""
    prompt = decode_prompt(model.config, context)
    engine_tps, reference_tps = 0.0, dict.fromkeys(references, 0.0)
    reference_ids: list[int] = []
    for _ in range(repeats):
        engine_ids, tps = engine_decode(model, prompt, tokens, chunk, weight_dtype)
        engine_tps = max(engine_tps, tps)
        for i, (name, reference) in enumerate(references.items()):
            ids, tps = reference_decode(reference, prompt, tokens, chunk)
            reference_tps[name] = max(reference_tps[name], tps)
            reference_ids = ids if i == 0 else reference_ids
    fastest = max(reference_tps.values())
    return {
        "prompt_tokens": context,
        "new_tokens": tokens,
        "repeats": repeats,
        "engine_tokens_per_cpu_second": round(engine_tps, 2),
        "transformers_tokens_per_cpu_second": round(fastest, 2),
        "transformers_by_dtype": {name: round(tps, 2) for name, tps in reference_tps.items()},
        "speedup": round(engine_tps / fastest, 2),
        "greedy_identical": engine_ids == reference_ids,
    }


def stream_bandwidth(megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes per CPU second a float32 matrix-vector product streams: the best of `repeats`, with torch's
    `mv` and with the engine's own few-row kernel, whichever is faster. The memory roofline that
    batch-one decoding cannot beat."""
    rows = megabytes * 2**20 // 4 // 4096
    matrix, vector = torch.randn(rows, 4096), torch.randn(4096)
    best = float("inf")
    for product in (torch.mv, linear):
        for _ in range(repeats):
            clock = time.process_time()
            product(matrix, vector)
            best = min(best, time.process_time() - clock)
    return matrix.numel() * 4 / best


def roofline(
    config: ModelConfig, decode: list[dict[str, Any]], bandwidth: float, weight_bytes: int = 4
) -> dict[str, Any]:
    """Decode speed if every active weight byte (`weight_bytes` each) were streamed once per token at
    the measured bandwidth, and how close each side comes (the embedding is one row per token, so it
    is not counted; the lm_head is)."""
    _, active = config.parameter_counts()
    active_bytes = (active - config.vocab_size * config.hidden_size) * weight_bytes
    limit = bandwidth / active_bytes
    fastest = max(decode, key=lambda d: d["engine_tokens_per_cpu_second"])
    return {
        "active_weight_bytes_per_token": active_bytes,
        "fp32_matvec_bytes_per_cpu_second": round(bandwidth),
        "roofline_tokens_per_cpu_second": round(limit, 2),
        "engine_share_of_roofline": round(fastest["engine_tokens_per_cpu_second"] / limit, 3),
        "transformers_share_of_roofline": round(fastest["transformers_tokens_per_cpu_second"] / limit, 3),
        "largest_possible_speedup_over_transformers": round(
            limit / fastest["transformers_tokens_per_cpu_second"], 2
        ),
        "context_tokens": fastest["prompt_tokens"],
    }


def peak_rss_during(fn: Any) -> tuple[Any, int]:
    """(fn(), bytes the resident set rose above its starting point at its peak). Linux: resets VmHWM.

    Freed heap memory is first handed back to the OS (malloc_trim), so reusing memory freed by earlier
    work cannot hide what `fn` allocates.
    """
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    value = fn()
    return value, (_status_kb("VmHWM") - before) * 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def prefill_run(model: MiMoForCausalLM, length: int, chunk: int) -> dict[str, Any]:
    prompt = torch.randint(0, model.config.vocab_size, (length,), generator=torch.Generator().manual_seed(1))
    engine = Engine(model, max_seq_len=length + 1, prefill_chunk=chunk)
    start = time.process_time()
    _, peak = peak_rss_during(lambda: engine.prefill(prompt.tolist()))
    seconds = time.process_time() - start
    return {
        "tokens": length,
        "chunk": chunk,
        "tokens_per_cpu_second": round(length / seconds, 1),
        "peak_rss_rise_mib": round(peak / 2**20, 1),
    }


def kv_report(config: ModelConfig, dtype_bytes: int) -> dict[str, Any]:
    """Cache bytes at 32K/256K for this layout vs every layer global: with each layer's own kv heads, and
    with every layer shaped like the global ones (the model card's "KV cache cut" comparison)."""
    per_layer = [
        config.attention(i).kv_bytes_per_position(dtype_bytes) for i in range(config.num_hidden_layers)
    ]
    report: dict[str, Any] = {
        "kv_bytes_per_token": config.kv_bytes_per_token(dtype_bytes),
        "sliding_ring_bytes": config.ring_bytes(dtype_bytes),
    }
    for context, label in ((32 * 1024, "32k"), (256 * 1024, "256k")):
        hybrid = config.kv_bytes(context, dtype_bytes)
        own_dims = context * sum(per_layer)
        ga_dims = context * config.num_hidden_layers * config.full.kv_bytes_per_position(dtype_bytes)
        report[f"kv_bytes_{label}"] = hybrid
        report[f"kv_bytes_{label}_all_global_own_dims"] = own_dims
        report[f"kv_bytes_{label}_all_global_ga_dims"] = ga_dims
        report[f"kv_reduction_{label}"] = [round(own_dims / hybrid, 2), round(ga_dims / hybrid, 2)]
    return report


def allocated_vs_theory(config: ModelConfig, context: int) -> dict[str, Any]:
    """The bytes KVCache really allocates (bf16) vs the theoretical window + 1 / full-context figure."""
    cache = KVCache(config, context, torch.bfloat16)  # zero pages: allocated lazily, no RSS cost
    theory = config.kv_bytes(context, 2)
    return {
        "context": context,
        "allocated_bytes": cache.nbytes(),
        "theory_bytes": theory,
        "ratio": round(cache.nbytes() / theory, 4),
        "ring_spare_slots": DEFAULT_ROLLBACK - 1,
    }


def layout(config: ModelConfig) -> dict[str, Any]:
    total, active = config.parameter_counts()
    layers = range(config.num_hidden_layers)
    return {
        "total_parameters": total,
        "active_parameters": active,
        "global_layers": [i for i in layers if config.layer_types[i] == GLOBAL],
        "sliding_layers": sum(1 for i in layers if config.layer_types[i] != GLOBAL),
        "sliding_window": config.sliding.window,
        "moe_layers": sum(1 for i in layers if config.is_moe(i)),
        "experts": f"{config.num_experts_per_tok} of {config.n_routed_experts}",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decode-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="decode runs per side; the fastest counts")
    parser.add_argument(
        "--decode-contexts",
        type=int,
        nargs="+",
        default=[160, 4096],
        help="prompt lengths to decode after (beyond the 128 window, so rings wrap)",
    )
    parser.add_argument("--prefill-tokens", type=int, default=4096)
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is stable on a shared CPU)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    reference, model = build_models(args.seed)
    # Peak memory should follow the chunk, not the prompt: a 4× longer prompt, then a 4× smaller chunk.
    runs = [
        (args.prefill_tokens // 4, args.chunk),
        (args.prefill_tokens, args.chunk),
        (args.prefill_tokens, args.chunk // 4),
    ]
    prefill = [prefill_run(model, n, chunk) for n, chunk in runs]
    decode = [
        decode_compare({"float32": reference}, model, n, args.decode_tokens, args.chunk, args.repeats)
        for n in args.decode_contexts
    ]
    # The same comparison on a bfloat16 checkpoint (as models ship): every matrix rounded to bfloat16
    # on both sides. transformers runs it in float32 and in bfloat16 (the faster counts); the engine
    # keeps the matrices bfloat16 and multiplies in float32.
    bf16_model = bfloat16_checkpoint(reference)
    references = {"float32": reference, "bfloat16": copy.deepcopy(reference).to(torch.bfloat16)}
    decode_bf16 = [
        decode_compare(
            references,
            bf16_model,
            n,
            args.decode_tokens,
            args.chunk,
            args.repeats,
            weight_dtype=torch.bfloat16,
        )
        for n in args.decode_contexts
    ]
    del reference, references, bf16_model
    bandwidth = stream_bandwidth()
    real = ModelConfig.from_dict(MIMO_V2_FLASH_CONFIG, source="MIMO_V2_FLASH_CONFIG")
    report = {
        "torch_threads": args.threads,
        "clock": "process_time (CPU seconds of this single-threaded process)",
        "mini_model": {**layout(model.config), **kv_report(model.config, 2)},
        "decode": decode,
        "decode_roofline": roofline(model.config, decode, bandwidth),
        "decode_bfloat16_weights": decode_bf16,
        "decode_bfloat16_weights_roofline": roofline(model.config, decode_bf16, bandwidth, weight_bytes=2),
        "prefill": prefill,
        "kv_allocated_vs_theory": [allocated_vs_theory(model.config, n) for n in (32 * 1024, 256 * 1024)],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "real_model": {**layout(real), **kv_report(real, 2)},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
