"""The adversarial battery of evals/bench_path_escapes.py: at least 50 escape attempts, none succeeds."""

from __future__ import annotations

from pathlib import Path

from mimo_agent.evals.bench_path_escapes import run_battery

# Attempts that are legitimate calls (not refused) yet must not follow the symlinks salted in the workspace.
NOT_REFUSED = {
    ("glob", "everything (links must not be followed)"),
    ("grep", "whole workspace (links must not be followed)"),
    ("grep", "nested symlink"),
}


def test_battery_has_at_least_50_attempts_and_no_escape(tmp_path: Path) -> None:
    outcomes = run_battery(tmp_path)
    escaped = [f"{o.attempt.tool}: {o.attempt.note}" for o in outcomes if o.escaped]
    print(f"path-escape attempts: {len(outcomes)}, escapes: {len(escaped)}")
    assert len(outcomes) >= 50
    assert escaped == []
    tools = {o.attempt.tool for o in outcomes}
    assert tools == {"read_file", "write_file", "edit", "multi_edit", "apply_patch", "glob", "grep"}


def test_every_attempt_except_plain_searches_is_refused(tmp_path: Path) -> None:
    outcomes = run_battery(tmp_path)
    not_refused = {(o.attempt.tool, o.attempt.note) for o in outcomes if not o.refused}
    assert not_refused == NOT_REFUSED


def test_atomic_patch_writes_nothing_when_a_later_file_escapes(tmp_path: Path) -> None:
    """A patch whose second file escapes must not create its first, legitimate file either."""
    run_battery(tmp_path)
    assert not (tmp_path / "ws" / "ok.txt").exists()
