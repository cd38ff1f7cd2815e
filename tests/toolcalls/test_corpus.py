"""`mimo-agent toolcalls check`: summary, result lines, and no crash on broken input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from mimo_agent.cli import toolcalls as toolcalls_cli
from mimo_agent.cli._common import CliError

TOOL = {
    "type": "function",
    "function": {
        "name": "f",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
    },
}
GOOD = "<tool_call>\n<function=f>\n<parameter=a>5</parameter>\n</function>\n</tool_call>"
LINES = [
    {
        "id": 1,
        "raw": GOOD,
        "tools": [TOOL],
        "expected": [{"name": "f", "arguments": {"a": 5}}],
        "extra": "ignored",
    },
    {
        "id": 2,
        "raw": '{"name": "f", "arguments": {"a": "6"}}',
        "tools": [TOOL],
        "expected": [{"name": "f", "arguments": {"a": 7}}],
    },
    {
        "id": 3,
        "raw": "<tool_call>\n<function=g>\n<parameter=x>[1]</parameter>\n</function>\n</tool_call>",
        "tools": None,
        "expected": None,
    },
    {"id": 4, "raw": "<tool_call>\n<function=f>\n</function>\n</tool_call>", "tools": [TOOL]},
    {"id": 5, "raw": "just words", "tools": [TOOL], "expected": []},
]


def run(tmp_path: Path, lines: list[str], *extra: str) -> int:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    toolcalls_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["toolcalls", "check", "--corpus", str(corpus), "--out", str(tmp_path / "out.jsonl"), *extra]
    )
    return args.func(args)


def test_summary_and_result_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = ["{not json", '{"id": 9, "raw": 5}', "[]", '{"id": 10, "raw": "x", "tools": [3]}', '"\\ud800"']
    assert run(tmp_path, [json.dumps(x) for x in LINES] + broken, "--format", "xml") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["cases"] == 5
    assert summary["parsed"] == 4
    assert summary["valid"] == 3
    assert (summary["expected_cases"], summary["exact_match"]) == (3, 2)
    assert summary["repaired"] == 1
    assert summary["repairs"] == {"bare_json_call": 1, "json_instead_of_xml": 1, "wrong_type_value": 1}
    assert [m["line"] for m in summary["malformed_lines"]] == [6, 7, 8, 9, 10]
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [1, 2, 3, 4, 5, None, None, None, None, None]
    for number, result in enumerate(results[5:], 6):  # malformed lines keep their place, with their number
        assert set(result) == {"id", "calls", "text", "repairs", "errors"}
        assert result["errors"][0]["message"].startswith(f"line {number}: ")
    assert results[0] == {
        "id": 1,
        "calls": [{"name": "f", "arguments": {"a": 5}}],
        "text": "",
        "repairs": [],
        "errors": [],
    }
    assert results[2]["calls"] == [{"name": "g", "arguments": {"x": [1]}}]
    assert results[3]["errors"][0]["path"] == "a"
    assert results[4]["text"] == "just words"


def test_missing_corpus_is_a_user_error(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    toolcalls_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["toolcalls", "check", "--corpus", str(tmp_path / "none.jsonl")])
    with pytest.raises(CliError, match="none.jsonl"):
        args.func(args)


def test_a_lone_surrogate_in_raw_is_written_back_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON may escape a lone surrogate (`\\ud800`); it cannot be encoded as UTF-8 but must round-trip."""
    raw = GOOD.replace("\n</tool_call>", "\n</tool_call> tail \ud800")
    line = json.dumps({"id": 1, "raw": raw, "tools": [TOOL], "expected": None})
    assert "\\ud800" in line
    assert run(tmp_path, [line]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] == 1
    (result,) = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert result["text"] == " tail \ud800"
    assert result["calls"] == [{"name": "f", "arguments": {"a": 5}}]


def test_unwritable_out_is_a_one_line_user_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps(LINES[0]) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    toolcalls_cli.register(parser.add_subparsers(dest="command"))
    for out in (tmp_path, tmp_path / "missing" / "out.jsonl"):
        args = parser.parse_args(["toolcalls", "check", "--corpus", str(corpus), "--out", str(out)])
        with pytest.raises(CliError, match=r"^--out .+: .+") as caught:
            args.func(args)
        assert "\n" not in str(caught.value)
