"""`mimo-agent serve` argument handling: one-line errors before anything is bound."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from mimo_agent.cli import serve
from mimo_agent.cli._common import CliError


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mimo-agent")
    serve.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


def test_defaults_bind_loopback_without_a_key() -> None:
    args = parse(["--model", "ckpt"])
    assert (args.host, args.port, args.api_key) == ("127.0.0.1", 8000, None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "--port 70000: expected 0-65535"),
        (["--max-body-mb", "0"], "--max-body-mb 0.0: expected a positive size"),
        ([], "not a checkpoint directory"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path: Path, argv: list[str], message: str) -> None:
    args = parse(["--model", str(tmp_path / "missing"), *argv])
    with pytest.raises(CliError, match=message):
        serve.run(args)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("example.org", False)],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert serve._is_loopback(host) is loopback
