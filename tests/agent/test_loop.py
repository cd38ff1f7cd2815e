"""The agent loop end to end with the replay backend on a real repository and the real tools."""

from __future__ import annotations

import json
from pathlib import Path

from mimo_agent.agent import events as ev
from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import RunRequest, run_headless
from tests.agent.replay_repo import FIXING_OUTPUTS, call, make_buggy_repo, write_replay


def _run(tmp_path: Path, outputs: list[str], mode: str = "yolo", **budgets: int):
    repo = make_buggy_repo(tmp_path / "repo")
    replay = write_replay(tmp_path / "replay.jsonl", outputs)
    seen: list[ev.Event] = []
    flags = {"model": {"backend": "replay", "replay": str(replay)}, "permissions": {"mode": mode}}
    if budgets:
        flags["budgets"] = budgets
    request = RunRequest(
        workspace=repo,
        task="add(2, 3) returns -1",
        flags=flags,
        trajectory_path=tmp_path / "t.json",
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    return repo, run_headless(request, on_event=seen.append), seen


def test_replayed_fix_edits_runs_tests_and_finishes(tmp_path: Path) -> None:
    repo, result, seen = _run(tmp_path, FIXING_OUTPUTS)
    assert result.outcome.kind is OutcomeKind.FINISHED, result.outcome
    assert "it now adds" in (result.outcome.summary or "")
    assert "-    return a - b\n+    return a + b" in result.patch
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    results = [e for e in seen if isinstance(e, ev.ToolFinished)]
    assert [e.name for e in results] == ["read_file", "edit", "bash", "finish"]
    assert "1 passed" in results[2].output
    trajectory = json.loads((tmp_path / "t.json").read_text())
    assert trajectory["outcome"]["kind"] == "finished"
    roles = [m["role"] for m in trajectory["messages"]]
    assert roles[:2] == ["system", "user"] and roles.count("tool") == 4
    assert any(e["type"] == "tool_call" for e in trajectory["events"])


def test_headless_ask_mode_denies_edits_with_a_message(tmp_path: Path) -> None:
    outputs = [FIXING_OUTPUTS[1], call("finish", summary="could not edit")]
    repo, result, seen = _run(tmp_path, outputs, mode="ask")
    denied = [e for e in seen if isinstance(e, ev.PermissionDecided) and not e.allowed]
    assert denied and denied[0].name == "edit"
    assert result.patch == ""
    tool_results = [e for e in seen if isinstance(e, ev.ToolFinished)]
    assert tool_results[0].is_error and "Permission denied" in tool_results[0].output


def test_invalid_calls_get_feedback_then_stop_the_run(tmp_path: Path) -> None:
    bad = call("no_such_tool", x="1")
    _, result, seen = _run(tmp_path, [bad] * 5, max_consecutive_invalid=2)
    assert result.outcome.kind is OutcomeKind.INVALID_CALLS
    invalid = [e for e in seen if isinstance(e, ev.ToolCallInvalid)]
    assert len(invalid) == 2 and "no_such_tool" in invalid[0].feedback


def test_repeated_calls_nudge_then_stop(tmp_path: Path) -> None:
    same = call("read_file", path="calc.py")
    _, result, seen = _run(tmp_path, [same] * 10, max_repeated_calls=2)
    assert any(isinstance(e, ev.Notice) and e.kind == "loop_nudge" for e in seen)
    assert result.outcome.kind is OutcomeKind.LOOP_DETECTED


def test_step_budget(tmp_path: Path) -> None:
    _, result, _ = _run(tmp_path, [call("read_file", path=f"{n}.py") for n in range(10)], max_steps=3)
    assert result.outcome.kind is OutcomeKind.BUDGET_EXHAUSTED
    assert result.steps == 3


def test_prose_without_a_call_is_answered_with_a_reminder(tmp_path: Path) -> None:
    _, result, seen = _run(tmp_path, ["I think the bug is in calc.py.", FIXING_OUTPUTS[-1]])
    assert result.outcome.kind is OutcomeKind.FINISHED
    assert any(isinstance(e, ev.Notice) and e.kind == "no_tool_call" for e in seen)


def test_backend_exhaustion_is_an_error_outcome(tmp_path: Path) -> None:
    _, result, _ = _run(tmp_path, [FIXING_OUTPUTS[0]])
    assert result.outcome.kind is OutcomeKind.ERROR
    assert "replay exhausted" in result.outcome.message


def test_compaction_triggers_over_the_threshold_and_keeps_recent_turns(tmp_path: Path) -> None:
    """A small context window forces compaction: older turns become one summary, the task stays verbatim."""
    # Replay answers every model call in order, summaries included: spare finishes keep it from running dry.
    reads = [call("read_file", path="calc.py", start_line=1, end_line=1 + n % 2) for n in range(8)]
    outputs = [*reads, *[FIXING_OUTPUTS[-1]] * 4]
    repo = make_buggy_repo(tmp_path / "repo")
    replay = write_replay(tmp_path / "replay.jsonl", outputs)
    seen: list[ev.Event] = []
    flags = {
        "model": {"backend": "replay", "replay": str(replay), "context_window": 3000, "answer_reserve": 0},
        "context": {"compaction_threshold": 0.9, "keep_recent_turns": 1},
        "permissions": {"mode": "yolo"},
        "budgets": {"max_repeated_calls": 9, "max_consecutive_invalid": 9},
    }
    request = RunRequest(
        workspace=repo,
        task="add(2, 3) returns -1",
        flags=flags,
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    result = run_headless(request, on_event=seen.append)
    assert result.outcome.kind is OutcomeKind.FINISHED, result.outcome
    compactions = [e for e in seen if isinstance(e, ev.Compacted)]
    assert compactions and all(
        c.tokens_after < c.tokens_before and c.turns_summarised >= 1 for c in compactions
    )
