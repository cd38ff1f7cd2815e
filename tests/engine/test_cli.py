"""`mimo-agent generate` and `mimo-agent model-info` on a saved tiny checkpoint with a tiny tokenizer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from mimo_agent.cli import generate, model_info
from mimo_agent.cli._common import CliError
from mimo_agent.engine.engine import Engine
from mimo_agent.engine.sampling import SamplingParams
from tests.engine import checkpoint_writers as cw
from tests.engine.tiny_models import save_tiny_chat


def invoke(argv: list[str]) -> int:
    """Parse with exactly the parsers these modules register and run the chosen command."""
    parser = argparse.ArgumentParser(prog="mimo-agent")
    subparsers = parser.add_subparsers(dest="command")
    generate.register(subparsers)
    model_info.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli")
    save_tiny_chat(path, seed=4)
    return path


def test_generate_json_matches_the_engine(checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        invoke(["generate", "--model", str(checkpoint), "--max-new-tokens", "12", "--json", "def add(a, b):"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    engine = Engine.from_pretrained(checkpoint, max_seq_len=256)
    expected = engine.complete(
        engine.tokenizer.encode("def add(a, b):"), params=SamplingParams(max_new_tokens=12)
    )
    assert out["token_ids"] == expected.token_ids and out["text"] == expected.text
    assert out["stats"]["prompt_tokens"] == len(engine.tokenizer.encode("def add(a, b):"))
    assert set(out["stats"]) >= {"generated_tokens", "prefill_seconds", "decode_seconds", "tokens_per_second"}


def test_generate_keep_fp8_gives_the_same_tokens(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fp8 = cw.quantize_fp8(checkpoint, tmp_path / "fp8")
    argv = ["generate", "--model", str(fp8), "--max-new-tokens", "12", "--json", "def add(a, b):"]
    assert invoke(argv) == 0
    dequantised = json.loads(capsys.readouterr().out)
    assert invoke([*argv, "--keep-fp8"]) == 0
    assert json.loads(capsys.readouterr().out)["token_ids"] == dequantised["token_ids"]


def test_generate_weight_dtype_stores_the_matrices_narrower(
    checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "--model", str(checkpoint), "--max-new-tokens", "12", "--json", "--weight-dtype"]
    assert invoke([*argv, "bfloat16", "def add(a, b):"]) == 0
    out = json.loads(capsys.readouterr().out)
    engine = Engine.from_pretrained(checkpoint, max_seq_len=256, weight_dtype=torch.bfloat16)
    assert engine.model.lm_head.weight.dtype == torch.bfloat16
    ids = engine.tokenizer.encode("def add(a, b):")
    assert out["token_ids"] == engine.complete(ids, params=SamplingParams(max_new_tokens=12)).token_ids
    with pytest.raises(SystemExit):  # argparse names the choices
        invoke([*argv, "int8", "x"])


def test_generate_streams_text_in_chat_mode(checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "generate",
        "--model",
        str(checkpoint),
        "--chat",
        "--max-new-tokens",
        "10",
        "--temperature",
        "0.8",
    ]
    assert invoke([*argv, "--seed", "3", "--json", "Hello"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert invoke([*argv, "--seed", "3", "Hello"]) == 0
    assert capsys.readouterr().out == result["text"] + "\n"


def test_model_info(checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["model-info", "--model", str(checkpoint), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["global_layers"] == [0, 5] and info["sliding_layers"] == [1, 2, 3, 4]
    assert info["dense_layers"] == [0] and info["experts"] == 8
    assert info["kv_bytes_per_token"] == 2 * 1 * (24 + 16) * 2
    assert invoke(["model-info", "--model", str(checkpoint)]) == 0
    text = capsys.readouterr().out
    assert "global attention: 0, 5" in text and "sliding window (16 previous + current, sinks): 1-4" in text


@pytest.mark.parametrize("command", ["generate", "model-info"])
def test_missing_directory_is_a_one_line_error(tmp_path: Path, command: str) -> None:
    argv = [command, "--model", str(tmp_path / "nowhere")] + (["hi"] if command == "generate" else [])
    with pytest.raises(CliError) as info:
        invoke(argv)
    assert "nowhere" in str(info.value) and "\n" not in str(info.value)


def test_corrupt_checkpoint_is_a_one_line_error(checkpoint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in checkpoint.iterdir():
        data = item.read_bytes()
        (broken / item.name).write_bytes(data[: len(data) // 2] if item.suffix == ".safetensors" else data)
    with pytest.raises(CliError) as info:
        invoke(["generate", "--model", str(broken), "hi"])
    assert "model.safetensors" in str(info.value) and "\n" not in str(info.value)


def test_bad_sampling_flag_is_a_cli_error(checkpoint: Path) -> None:
    with pytest.raises(CliError, match="top_p"):
        invoke(["generate", "--model", str(checkpoint), "--top-p", "1.5", "hi"])
