"""`mimo-agent generate`: run the embedded engine on one prompt and stream the output."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mimo_agent.cli._common import CliError
from mimo_agent.cli.engine_options import add_engine_options, engine_kwargs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate text with a local MiMo-V2 checkpoint",
        description=(
            "Load a checkpoint directory (config.json, safetensors, tokenizer) into the embedded engine and "
            "stream the continuation of PROMPT to stdout. PROMPT is raw text unless --chat wraps it as a "
            "user message in the checkpoint's chat template."
        ),
    )
    parser.add_argument("prompt", metavar="PROMPT", help="the prompt text")
    parser.add_argument("--model", type=Path, required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument("--max-new-tokens", type=int, default=256, metavar="N", help="generation budget")
    parser.add_argument(
        "--temperature", type=float, default=0.0, metavar="T", help="0 means greedy (default)"
    )
    parser.add_argument("--top-p", type=float, default=1.0, metavar="P", help="nucleus sampling mass")
    parser.add_argument("--seed", type=int, default=None, metavar="S", help="seed for reproducible sampling")
    parser.add_argument(
        "--chat", action="store_true", help="render PROMPT as a user turn with the chat template"
    )
    parser.add_argument(
        "--json", action="store_true", help='print one object at the end: {"text", "token_ids", "stats"}'
    )
    parser.add_argument(
        "--max-seq-len", type=int, default=None, metavar="N", help="KV cache capacity in tokens"
    )
    parser.add_argument(
        "--mtp-steps",
        type=int,
        default=None,
        metavar="K",
        help="speculative decoding with the checkpoint's MTP layers: K draft tokens per verify step "
        "(default: one per MTP layer, off without them; 0 disables). Greedy output is unchanged; "
        "--json shows acceptance and draft/verify time under stats.speculation",
    )
    add_engine_options(
        parser,
        keep_fp8_help="keep an FP8 checkpoint's quantised weights FP8 in memory (about a quarter of float32, "
        "half of bfloat16) and dequantise them per layer, and per chosen expert, as they are used; slower",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `mimo-agent --help` and unrelated sub-commands do not pay for torch.
    from mimo_agent.engine.engine import Engine, GenerationResult
    from mimo_agent.engine.errors import EngineError
    from mimo_agent.engine.sampling import SamplingParams

    try:
        params = SamplingParams(
            temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens, seed=args.seed
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        engine = Engine.from_pretrained(args.model, max_seq_len=args.max_seq_len, **engine_kwargs(args))
        if engine.tokenizer is None:
            raise CliError(f"{args.model}: no tokenizer files, so a text prompt cannot be encoded")
        if args.chat:
            prompt: list = [{"role": "user", "content": args.prompt}]
        else:
            prompt = engine.tokenizer.encode(args.prompt)
        result = None
        for item in engine.generate(prompt, params, mtp_steps=args.mtp_steps):
            if isinstance(item, GenerationResult):
                result = item
            elif not args.json and item.text:
                sys.stdout.write(item.text)
                sys.stdout.flush()
    except EngineError as exc:
        raise CliError(str(exc)) from exc
    assert result is not None
    if args.json:
        print(
            json.dumps({"text": result.text, "token_ids": result.token_ids, "stats": result.stats.to_dict()})
        )
    else:
        print()
    return 0
