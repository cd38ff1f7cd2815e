"""`mimo-agent` entry point: discovers the sub-command modules in this package and dispatches.

A sub-command module defines `register(subparsers)`, which adds its parser and sets
`func=<callable(args) -> int>` as the parser default. Discovery keeps this file free of
edits when a command is added.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import mimo_agent
import mimo_agent.cli as cli_package
from mimo_agent.cli._common import CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimo-agent",
        description="A terminal coding agent built around Xiaomi's MiMo-V2-Flash.",
        epilog=(
            "Without a command, mimo-agent opens `chat`, the interactive agent, in the current git\n"
            "repository: `mimo-agent` is `mimo-agent chat`, and `mimo-agent --resume [ID]` is\n"
            "`mimo-agent chat --resume [ID]`. `mimo-agent chat --help` lists its options (backend, model,\n"
            "permission mode, theme, sessions); `mimo-agent COMMAND --help` describes any other command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the epilog's line breaks
    )
    parser.add_argument("--version", action="version", version=f"mimo-agent {mimo_agent.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name == "main" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{cli_package.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


DEFAULT_COMMAND = "chat"
TOP_LEVEL_FLAGS = {"-h", "--help", "--version"}


def main(argv: Sequence[str] | None = None) -> int:
    """Bare `mimo-agent` (or `mimo-agent --resume …`) opens the interactive chat."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in TOP_LEVEL_FLAGS):
        argv = [DEFAULT_COMMAND, *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:  # a command group such as `eval` without its sub-command
        parser.parse_args([*argv, "--help"])
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"mimo-agent {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
