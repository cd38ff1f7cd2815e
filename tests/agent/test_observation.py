"""Long observations keep head and tail and save the full text where read_file can reach it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mimo_agent.agent.observation import shape_observation


def count(text: str) -> int:
    return len(text) // 4


def test_short_text_unchanged(tmp_path: Path) -> None:
    assert (
        shape_observation("hello\n", max_tokens=10, count_tokens=count, workspace=tmp_path, name="s1")
        == "hello\n"
    )
    assert not (tmp_path / ".mimo-agent").exists()


def test_long_text_keeps_head_and_tail_and_saves_full(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    text = "".join(f"line {i}\n" for i in range(5000))
    out = shape_observation(text, max_tokens=200, count_tokens=count, workspace=tmp_path, name="step-3")
    assert count(out) <= 200 + 40  # the marker itself is the only overshoot
    assert out.startswith("line 0\n") and out.endswith("line 4999\n")
    assert "lines cut" in out and ".mimo-agent/observations/step-3.txt" in out
    assert (tmp_path / ".mimo-agent/observations/step-3.txt").read_text() == text
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True, text=True)
    assert ".mimo-agent" not in status.stdout  # excluded: never part of a patch


def test_single_huge_line_is_cut_by_characters(tmp_path: Path) -> None:
    text = "x" * 100_000
    out = shape_observation(text, max_tokens=100, count_tokens=count, workspace=tmp_path, name="big")
    assert len(out) < 1000 and "characters cut" in out
