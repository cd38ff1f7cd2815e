"""Every way a run can be cut short ends in a typed outcome with a valid history: the cancellation token
(Esc), an unexpected exception, a tool bug; and the backend's tokenizer and context size are honoured."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from mimo_agent.agent import events as ev
from mimo_agent.agent.loop import ANSWERED, INTERRUPT_MARK, NOT_RUN
from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import PreparedRun, RunRequest, prepare_run
from mimo_agent.backends.base import Completion, Message, Usage
from mimo_agent.backends.replay import ReplayBackend
from mimo_agent.toolcalls.definition import ToolDef
from tests.agent.replay_repo import FIXING_OUTPUTS, call, make_buggy_repo

LONG_ANSWER = "I will now change calc.py so that add really adds its arguments. " * 6


def _prepare(
    tmp_path: Path,
    backend: Any,
    on_event: Callable[[ev.Event], None] = lambda e: None,
    **flags: dict[str, Any],
) -> PreparedRun:
    repo = tmp_path / "repo"
    if not repo.exists():
        make_buggy_repo(repo)
    request = RunRequest(
        repo,
        "fix add",
        flags={"permissions": {"mode": "yolo"}, **flags},
        trajectory_path=tmp_path / "t.json",
        environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    return prepare_run(request, on_event, backend=backend)


def _assert_valid_history(messages: list[Message]) -> None:
    """Every tool call has exactly one result, in order, right after its assistant message."""
    for i, message in enumerate(messages):
        ids = [c["id"] for c in message.get("tool_calls") or []]
        results = [m["tool_call_id"] for m in messages[i + 1 : i + 1 + len(ids)]]
        assert results == ids, messages


def test_cancel_while_streaming_keeps_the_partial_reply_and_its_tokens(tmp_path: Path) -> None:
    backend = ReplayBackend([LONG_ANSWER + FIXING_OUTPUTS[1]], chunk_chars=8, chunk_delay=0.005)
    deltas: list[str] = []

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.AssistantDelta):
            deltas.append(event.text)
            if len(deltas) == 5:
                prepared.agent.cancel.set()

    prepared = _prepare(tmp_path, backend, on_event)
    run = prepared.agent.run("fix add")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.INTERRUPTED
    last = run.messages[-1]
    assert last == {"role": "assistant", "content": "".join(deltas).strip() + "\n\n" + INTERRUPT_MARK}
    assert len(deltas) == 5 and run.completion_tokens == len("".join(deltas)) // 4 and run.steps == 1
    assert (tmp_path / "repo" / "calc.py").read_text().endswith("a - b\n")  # the edit never ran
    saved = json.loads((tmp_path / "t.json").read_text())
    [message] = [e["payload"] for e in saved["events"] if e["type"] == "assistant_message"]
    assert message["finish_reason"] == "interrupted" and message["completion_tokens"] == run.completion_tokens
    assert saved["outcome"]["kind"] == "interrupted"


def test_cancel_between_tool_calls_answers_the_calls_left(tmp_path: Path) -> None:
    two_calls = call("read_file", path="calc.py") + "\n" + FIXING_OUTPUTS[1]

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.ToolFinished):
            prepared.agent.cancel.set()

    prepared = _prepare(tmp_path, ReplayBackend([two_calls, FIXING_OUTPUTS[-1]]), on_event)
    run = prepared.agent.run("fix add")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.INTERRUPTED
    assert [m["role"] for m in run.messages[-3:]] == ["assistant", "tool", "tool"]
    assert run.messages[-1]["content"] == NOT_RUN and run.messages[-1]["name"] == "edit"
    _assert_valid_history(run.messages)
    assert (tmp_path / "repo" / "calc.py").read_text().endswith("a - b\n")


class NoCancelBackend:
    """A backend written before the cancel parameter existed (a third-party one, say)."""

    name = "legacy"

    def __init__(self, outputs: list[str]) -> None:
        self.replay = ReplayBackend(outputs)

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDef],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        return self.replay.complete(messages, tools, on_delta=on_delta)

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[ToolDef]) -> int:
        return self.replay.count_tokens(messages, tools)


def test_a_backend_without_cancel_finishes_its_reply_and_no_call_runs(tmp_path: Path) -> None:
    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.AssistantDelta):
            prepared.agent.cancel.set()

    prepared = _prepare(tmp_path, NoCancelBackend([LONG_ANSWER + FIXING_OUTPUTS[1]]), on_event)
    run = prepared.agent.run("fix add")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.INTERRUPTED
    assert run.messages[-1]["content"] == LONG_ANSWER.strip() + "\n\n" + INTERRUPT_MARK
    assert "tool_calls" not in run.messages[-1]
    assert (tmp_path / "repo" / "calc.py").read_text().endswith("a - b\n")


def test_cancel_set_before_the_run_stops_before_the_model_is_called(tmp_path: Path) -> None:
    backend = ReplayBackend([FIXING_OUTPUTS[-1]])
    prepared = _prepare(tmp_path, backend)
    prepared.agent.cancel.set()
    run = prepared.agent.run("fix add")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.INTERRUPTED and backend.remaining == 1
    assert [m["role"] for m in run.messages] == ["system", "user"]


def test_end_turn_on_answer_replaces_the_reminder(tmp_path: Path) -> None:
    seen: list[ev.Event] = []
    prepared = _prepare(tmp_path, ReplayBackend(["The bug is in calc.py."]), seen.append)
    prepared.agent.end_turn_on_answer = True
    run = prepared.agent.run("where is the bug?")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.FINISHED and run.outcome.message == ANSWERED
    assert run.messages[-1] == {"role": "assistant", "content": "The bug is in calc.py."}
    assert not any(isinstance(e, ev.Notice) for e in seen)


def test_an_unexpected_exception_is_an_error_outcome_with_a_saved_trajectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: anything but RunStopped/KeyboardInterrupt/BackendError escaped the loop (outcome null)."""

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("observation shaping broke")

    monkeypatch.setattr("mimo_agent.agent.loop.shape_observation", broken)
    prepared = _prepare(tmp_path, ReplayBackend(FIXING_OUTPUTS))
    run = prepared.agent.run("fix add")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.ERROR
    assert "RuntimeError: observation shaping broke" in run.outcome.message
    assert "broken" in run.outcome.detail["traceback"]
    saved = json.loads((tmp_path / "t.json").read_text())
    assert saved["outcome"]["kind"] == "error" and saved["events"][-1]["type"] == "run_finished"


class TokenizerReplay(ReplayBackend):
    """Replay with a 'tokenizer' of one token per character and a model that holds 3,000 tokens."""

    context_limit = 3000

    def count_text(self, text: str) -> int:
        return len(text)


def test_observations_are_sized_with_the_backends_tokenizer(tmp_path: Path) -> None:
    """Regression: observations were measured as len // 4 whatever the model's tokenizer said."""
    repo = make_buggy_repo(tmp_path / "repo")
    (repo / "big.txt").write_text("".join(f"line {n}\n" for n in range(40)))  # ~300 chars, ~75 'estimated'
    outputs = [call("bash", command="cat big.txt"), FIXING_OUTPUTS[-1]]
    prepared = _prepare(tmp_path, TokenizerReplay(outputs), context={"observation_max_tokens": 150})
    assert (
        prepared.context.count_tokens is not None and prepared.context.count_tokens("abc") == 3
    )  # repo_map too
    run = prepared.agent.run("t")
    prepared.close()
    observation = next(m["content"] for m in run.messages if m["role"] == "tool")
    assert "lines cut" in observation and len(observation) < 300


def test_compaction_budget_is_the_backends_real_context(tmp_path: Path) -> None:
    """Regression: a model smaller than settings.context_window filled up before compaction triggered."""
    reads = [call("read_file", path="calc.py", start_line=1, end_line=1 + n % 2) for n in range(8)]
    seen: list[ev.Event] = []

    class Counting(TokenizerReplay):
        def count_text(self, text: str) -> int:
            return len(text) // 4

    prepared = _prepare(
        tmp_path,
        Counting([*reads, *[FIXING_OUTPUTS[-1]] * 4]),
        seen.append,
        model={"answer_reserve": 0},  # context_window stays at its 262,144 default
        context={"compaction_threshold": 0.9, "keep_recent_turns": 1},
        budgets={"max_repeated_calls": 9, "max_consecutive_invalid": 9},
    )
    assert prepared.agent.settings.model.context_window == 262_144
    run = prepared.agent.run("fix add")
    prepared.close()
    assert run.outcome.kind is OutcomeKind.FINISHED
    assert [e for e in seen if isinstance(e, ev.Compacted)]


def test_replay_count_tokens_is_incremental_but_exact() -> None:
    tools: list[ToolDef] = []
    backend = ReplayBackend([])
    history: list[Message] = [{"role": "system", "content": "s" * 40}]
    for n in range(30):
        history.append({"role": "user", "content": "x" * n})
        fresh = sum(len(json.dumps(m, ensure_ascii=False)) for m in history) // 4
        assert backend.count_tokens(history, tools) == fresh
    history[1:] = [{"role": "user", "content": "summary"}]
    assert backend.count_tokens(history, tools) == sum(len(json.dumps(m)) for m in history) // 4


def test_replay_delay_and_cancel() -> None:
    cancel = threading.Event()
    backend = ReplayBackend(["abcdefgh" * 4], chunk_chars=8, chunk_delay=0.01)
    got: list[str] = []
    completion = backend.complete([], [], on_delta=lambda t: (got.append(t), cancel.set()), cancel=cancel)
    assert completion.text == "abcdefgh" and completion.finish_reason == "interrupted" and got == ["abcdefgh"]
    assert completion.usage == Usage(0, 2)
