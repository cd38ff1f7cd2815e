"""ChatSession and the agent-side bridge without a screen: interrupts mid-stream, permission futures."""

from __future__ import annotations

import threading
from pathlib import Path

from mimo_agent.agent import events as ev
from mimo_agent.agent.loop import INTERRUPT_MARK
from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.permissions import Check, Decision, Verdict
from mimo_agent.tui.bridge import PermissionRequest, TuiApprover
from mimo_agent.tui.chat_session import ChatSession
from tests.agent.replay_repo import call
from tests.tui.harness import chat_app

EDIT = call("edit", path="calc.py", old_string="return a - b", new_string="return a + b")


def test_interrupt_while_streaming_keeps_the_partial_answer_and_runs_nothing(tmp_path: Path) -> None:
    options = chat_app(tmp_path, ["I will edit calc.py so that add adds. " * 4 + EDIT], mode="yolo").options
    seen: list[ev.Event] = []

    def post(event: ev.Event) -> None:
        seen.append(event)
        if isinstance(event, ev.AssistantDelta) and len(seen) > 3:
            session.interrupt()

    session = ChatSession(options, post, ask=lambda request: None)
    session.open()
    run = session.run_turn("fix add")
    session.close()
    assert run.outcome.kind is OutcomeKind.INTERRUPTED
    assert (tmp_path / "repo" / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    last = run.messages[-1]
    assert last["role"] == "assistant" and "tool_calls" not in last
    assert last["content"].startswith("I will edit calc.py") and last["content"].endswith(INTERRUPT_MARK)
    assert not any(isinstance(e, ev.ToolCallParsed) for e in seen)
    [message] = [e for e in seen if isinstance(e, ev.AssistantMessage)]
    assert message.finish_reason == "interrupted" and message.content == last["content"]


def test_approver_blocks_until_answered_and_refuses_when_cancelled() -> None:
    asked: list[PermissionRequest] = []
    cancel = threading.Event()
    approver = TuiApprover(asked.append, cancel)
    check = Check(Verdict.ASK, "edit needs approval in ask mode")
    answers: list[Decision] = []
    worker = threading.Thread(target=lambda: answers.append(approver.decide("edit", {"path": "x"}, check)))
    worker.start()
    while not asked:
        threading.Event().wait(0.01)
    assert worker.is_alive() and not answers  # blocked on the question
    asked[0].answer(Decision(True, "ok", remember=True))
    worker.join(5)
    assert answers == [Decision(True, "ok", remember=True)]
    worker = threading.Thread(target=lambda: answers.append(approver.decide("edit", {}, check)))
    worker.start()
    while len(asked) < 2:
        threading.Event().wait(0.01)
    approver.refuse_pending("closing")
    worker.join(5)
    assert answers[-1] == Decision(False, "closing")
    cancel.set()
    assert not approver.decide("edit", {}, check).allowed and len(asked) == 2  # no question once cancelled
