"""`mimo-agent model-info`: parameter counts, layer layout and KV-cache cost of a checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mimo_agent.cli._common import CliError

KV_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "model-info",
        help="describe a checkpoint: parameters, layer layout, KV bytes per token",
        description=(
            "Read a checkpoint's config.json (hub or transformers spelling) and print total and active "
            "parameters, which layers are global or sliding-window and dense or MoE, and the KV-cache "
            "cost: bytes per context token (global layers) plus the fixed sliding-window rings."
        ),
    )
    parser.add_argument("--model", type=Path, required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument(
        "--kv-dtype", choices=sorted(KV_DTYPE_BYTES), default="bfloat16", help="dtype of the cached K/V"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mimo_agent.engine.config import GLOBAL, ModelConfig
    from mimo_agent.engine.errors import EngineError

    try:
        config = ModelConfig.from_file(args.model / "config.json")
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    dtype_bytes = KV_DTYPE_BYTES[args.kv_dtype]
    total, active = config.parameter_counts()
    layers = range(config.num_hidden_layers)
    window = config.sliding.window
    info = {
        "total_parameters": total,
        "active_parameters": active,
        "layers": config.num_hidden_layers,
        "global_layers": [i for i in layers if config.layer_types[i] == GLOBAL],
        "sliding_layers": [i for i in layers if config.layer_types[i] != GLOBAL],
        "sliding_window": window,
        "dense_layers": [i for i in layers if not config.is_moe(i)],
        "moe_layers": [i for i in layers if config.is_moe(i)],
        "experts": config.n_routed_experts,
        "experts_per_token": config.num_experts_per_tok,
        "kv_dtype": args.kv_dtype,
        "kv_bytes_per_token": config.kv_bytes_per_token(dtype_bytes),
        "kv_bytes_sliding_fixed": config.ring_bytes(dtype_bytes),
    }
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"parameters: {_billions(total)} total, {_billions(active)} active per token")
    print(f"layers: {config.num_hidden_layers}")
    print(f"  global attention: {_ranges(info['global_layers'])}")
    sinks = ", sinks" if config.sliding.sink else ""
    print(f"  sliding window ({window} previous + current{sinks}): {_ranges(info['sliding_layers'])}")
    print(f"  dense MLP: {_ranges(info['dense_layers'])}")
    print(
        f"  MoE ({config.n_routed_experts} experts, top {config.num_experts_per_tok}): {_ranges(info['moe_layers'])}"
    )
    print(
        f"KV cache ({args.kv_dtype}): {info['kv_bytes_per_token']} bytes per token"
        f" + {info['kv_bytes_sliding_fixed']} bytes fixed for the sliding-window layers"
    )
    return 0


def _billions(n: int) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e8 else f"{n:,}"


def _ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5] → '0-2, 5'."""
    if not indices:
        return "none"
    parts: list[str] = []
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)
