"""Options shared by the sub-commands that load the embedded engine (`generate`, `serve`)."""

from __future__ import annotations

import argparse
from typing import Any

DTYPES = ("float32", "bfloat16", "float16")


def add_engine_options(parser: argparse.ArgumentParser, keep_fp8_help: str) -> None:
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="activation (and weight) dtype")
    parser.add_argument(
        "--weight-dtype",
        choices=("float32", "bfloat16"),
        default=None,
        help="store the matrix weights (not the embeddings) in this dtype instead of --dtype; bfloat16 "
        "with --dtype float32 halves the bytes each decoded token reads from memory and still "
        "multiplies in float32 (lossless for a bfloat16 checkpoint; fast with the native CPU kernels)",
    )
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda:0")
    parser.add_argument("--keep-fp8", action="store_true", help=keep_fp8_help)


def engine_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """`Engine.from_pretrained` keywords from the options above."""
    import torch

    return {
        "dtype": getattr(torch, args.dtype),
        "weight_dtype": None if args.weight_dtype is None else getattr(torch, args.weight_dtype),
        "device": args.device,
        "keep_fp8": args.keep_fp8,
    }
