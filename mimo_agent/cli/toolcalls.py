"""`mimo-agent toolcalls check`: parse, repair and validate a JSONL corpus of model outputs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from mimo_agent.cli._common import CliError
from mimo_agent.toolcalls.corpus import CorpusSummary, check_corpus

_HELP = """\
Each input line is a JSON object: {"id": ..., "raw": "<model output>", "tools": [OpenAI tool objects] or
null, "expected": [{"name": ..., "arguments": {...}}] or null}; other fields are ignored. Prints a summary
JSON (cases, parsed, valid, exact_match over cases with `expected`, repaired, counts by repair rule,
malformed lines with their numbers) and, with --out, writes one result line per non-blank input line:
{"id", "calls": [{"name", "arguments"}], "text", "repairs", "errors"}; a malformed line gets id null and
an error naming its line number, so results stay aligned with the input."""


def _open_out(path: str | None) -> TextIO | None:
    """The results file; a lone surrogate in a model's output (JSON allows `\\ud800`) is written back as
    that same JSON escape by `backslashreplace`, instead of failing to encode as UTF-8."""
    if path is None:
        return None
    try:
        return open(path, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115 - closed by caller
    except OSError as exc:
        raise CliError(f"--out {path}: {exc.strerror or exc}") from exc


def _check(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus)
    if not corpus.is_file():
        raise CliError(f"--corpus {corpus}: no such file")
    out = _open_out(args.out)
    try:
        with corpus.open(encoding="utf-8", errors="replace") as lines:
            for item in check_corpus(lines, args.format):
                if isinstance(item, CorpusSummary):
                    json.dump(item.to_dict(), sys.stdout, indent=2)
                    print()
                elif out is not None:
                    out.write(json.dumps(item, ensure_ascii=False, default=repr) + "\n")
    except OSError as exc:
        raise CliError(f"{exc.filename or args.out}: {exc.strerror or exc}") from exc
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
