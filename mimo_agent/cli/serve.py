"""`mimo-agent serve`: the embedded engine behind an OpenAI-compatible HTTP API."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from mimo_agent.cli._common import CliError
from mimo_agent.cli.engine_options import add_engine_options, engine_kwargs

API_KEY_VARIABLE = "MIMO_AGENT_SERVE_API_KEY"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a local checkpoint through an OpenAI-compatible API",
        description=(
            "Load a checkpoint into the embedded engine and serve POST /v1/chat/completions (tools, "
            "tool_choice, response_format, streaming), GET /v1/models and GET /health. Tool calls and JSON "
            "answers are grammar-constrained. One generation runs at a time; later requests queue. Binds "
            f"to loopback unless --host says otherwise; with --api-key (or ${API_KEY_VARIABLE}) every /v1 "
            "request must send 'Authorization: Bearer KEY'."
        ),
    )
    parser.add_argument("--model", type=Path, required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    parser.add_argument(
        "--api-key", metavar="KEY", help=f"require this bearer key (default: ${API_KEY_VARIABLE})"
    )
    parser.add_argument(
        "--served-model-name", metavar="NAME", help="model id clients send (default: DIR's name)"
    )
    parser.add_argument(
        "--max-seq-len", type=int, default=None, metavar="N", help="KV cache capacity in tokens"
    )
    parser.add_argument("--max-body-mb", type=float, default=8.0, metavar="MB", help="largest request body")
    add_engine_options(parser, "keep an FP8 checkpoint's weights FP8 in memory (dequantised per use)")
    parser.add_argument("--threads", type=int, default=None, metavar="N", help="torch CPU threads")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch
    import uvicorn

    from mimo_agent.engine.engine import Engine
    from mimo_agent.engine.errors import EngineError
    from mimo_agent.server.app import create_app
    from mimo_agent.server.service import ChatService

    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port}: expected 0-65535")
    if args.max_body_mb <= 0:
        raise CliError(f"--max-body-mb {args.max_body_mb}: expected a positive size")
    api_key = args.api_key or os.environ.get(API_KEY_VARIABLE) or None
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        engine = Engine.from_pretrained(args.model, max_seq_len=args.max_seq_len, **engine_kwargs(args))
        service = ChatService(engine, args.served_model_name or args.model.resolve().name)
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    if api_key is None and not _is_loopback(args.host):
        print(
            f"warning: serving on {args.host} without --api-key: anyone who can reach it may use it",
            file=sys.stderr,
        )
    app = create_app(service, api_key=api_key, max_body_bytes=int(args.max_body_mb * 2**20))
    print(f"serving {service.model_name!r} on http://{args.host}:{args.port}/v1", file=sys.stderr, flush=True)
    # On Ctrl-C, give running requests a few seconds, then cancel them (their generations stop with them).
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=5)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
