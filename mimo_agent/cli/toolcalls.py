"""`mimo-agent toolcalls check`: parse, repair and validate a JSONL corpus of model outputs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mimo_agent.cli._common import CliError
from mimo_agent.toolcalls.corpus import CorpusSummary, check_corpus

_HELP = """\
Each input line is a JSON object: {"id": ..., "raw": "<model output>", "tools": [OpenAI tool objects] or
null, "expected": [{"name": ..., "arguments": {...}}] or null}; other fields are ignored. Prints a summary
JSON (cases, parsed, valid, exact_match over cases with `expected`, repaired, counts by repair rule,
malformed lines with their numbers) and, with --out, writes one result line per case:
{"id", "calls": [{"name", "arguments"}], "text", "repairs", "errors"}."""


def _check(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus)
    if not corpus.is_file():
        raise CliError(f"--corpus {corpus}: no such file")
    out = open(args.out, "w", encoding="utf-8") if args.out else None  # noqa: SIM115 - closed in finally
    try:
        with corpus.open(encoding="utf-8", errors="replace") as lines:
            for item in check_corpus(lines, args.format):
                if isinstance(item, CorpusSummary):
                    json.dump(item.to_dict(), sys.stdout, indent=2)
                    print()
                elif out is not None:
                    out.write(json.dumps(item, ensure_ascii=False, default=repr) + "\n")
    finally:
        if out is not None:
            out.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("toolcalls", help="tool-call parsing and repair utilities")
    commands = parser.add_subparsers(dest="toolcalls_command", metavar="SUBCOMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="parse, repair and validate tool calls in a JSONL corpus of model outputs",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--corpus", required=True, metavar="FILE.jsonl", help="input cases, one JSON object a line"
    )
    check.add_argument(
        "--format",
        choices=("auto", "xml", "json"),
        default="auto",
        help="format the model was asked for: xml (MiMo/Qwen3-Coder), json (Hermes) or auto (either, no repair noted)",
    )
    check.add_argument("--out", metavar="RESULTS.jsonl", help="write one result line per case here")
    check.set_defaults(func=_check)
