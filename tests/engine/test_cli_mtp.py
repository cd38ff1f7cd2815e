"""`mimo-agent generate --mtp-steps K` on a tiny hub-layout checkpoint that ships MTP layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_agent.cli._common import CliError
from tests.engine import checkpoint_writers as cw
from tests.engine.test_cli import invoke
from tests.engine.tiny_models import save_tiny_chat


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli_mtp")
    save_tiny_chat(base / "src", seed=4)
    return cw.to_hub_layout(base / "src", base / "hub", mtp_layers=3)


def generate_json(checkpoint: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    argv = [
        "generate",
        "--model",
        str(checkpoint),
        "--max-new-tokens",
        "24",
        "--json",
        *extra,
        "def add(a, b):",
    ]
    assert invoke(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_mtp_steps_show_in_json_stats_and_keep_greedy_output(
    checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = generate_json(checkpoint, capsys, "--mtp-steps", "0")
    default = generate_json(checkpoint, capsys)
    two = generate_json(checkpoint, capsys, "--mtp-steps", "2")
    assert plain["stats"]["speculation"] is None
    assert default["token_ids"] == two["token_ids"] == plain["token_ids"]
    assert default["stats"]["speculation"]["draft_tokens"] == 3  # default: every MTP layer
    spec = two["stats"]["speculation"]
    assert spec["draft_tokens"] == 2 and spec["steps"] > 0
    assert set(spec) >= {"accepted_length", "accepted_length_histogram", "draft_seconds", "verify_seconds"}
    # adaptive drafting (the default) may decode some tokens plainly
    assert sum(int(n) * c for n, c in spec["accepted_length_histogram"].items()) + spec["plain_steps"] == 23


def test_too_many_mtp_steps_is_a_one_line_error(checkpoint: Path) -> None:
    with pytest.raises(CliError, match="mtp_steps=4: expected 0..3"):
        invoke(["generate", "--model", str(checkpoint), "--mtp-steps", "4", "hello"])
