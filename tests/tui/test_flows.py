"""The chat app driven like a person would (Pilot), with the replay backend on a real git repository."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown

from mimo_agent.agent import events as ev
from mimo_agent.agent.permissions import Decision
from mimo_agent.agent.sessions import SessionWriter, load_session
from mimo_agent.tui.bridge import PermissionRequest
from mimo_agent.tui.messages import AgentEvent, PermissionAsked
from mimo_agent.tui.widgets.assistant import AssistantReply
from mimo_agent.tui.widgets.notes import UserMessage
from mimo_agent.tui.widgets.permission import PermissionPrompt
from mimo_agent.tui.widgets.prompt_input import PromptInput
from mimo_agent.tui.widgets.tool_card import ToolCard
from tests.agent.replay_repo import FIXING_OUTPUTS, call
from tests.tui.harness import SIZE, chat_app, idle, notes, ready, send, wait_for

ANSWER = "<think>A greeting.\nAnswer briefly.</think>Hello! The bug is in **calc.py**: `add` subtracts."
EDIT = call("edit", path="calc.py", old_string="return a - b", new_string="return a + b")
FINISH = call("finish", summary="done")
BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


async def test_send_streams_a_markdown_answer_and_folds_the_reasoning(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [ANSWER])
    posted: list[object] = []
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hi")
        screen = await idle(pilot)
        assert [str(m.render()) for m in screen.query(UserMessage)] == ["› hi"]
        reply = screen.query_one(AssistantReply)
        assert reply.text == "Hello! The bug is in **calc.py**: `add` subtracts."
        assert reply.query_one(Markdown).source == reply.text
        assert "<think>" not in reply.text
        reasoning = reply.query_one(".reasoning")
        assert reasoning.collapsed and reasoning.title == "thought (2 lines)"
        unique = {id(m): m for m in posted}.values()  # the hook sees a message again as it bubbles
        deltas = [
            m.event.text
            for m in unique
            if isinstance(m, AgentEvent) and isinstance(m.event, ev.AssistantDelta)
        ]
        assert len(deltas) > 5 and "".join(deltas) == ANSWER  # it arrived in pieces, as messages
        assert screen.status.info.steps == 1 and screen.status.info.session_tokens > 0
        assert screen.status.info.state == "ready"
        messages = screen.session.run.agent.messages
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    saved = load_session(screen.session.session_id, tmp_path / "sessions")
    assert saved.messages[-1]["content"] == reply.text


async def test_approving_a_tool_that_asks_runs_it_and_shows_the_diff(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [EDIT, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY  # nothing ran before the answer
        await pilot.press("y")
        screen = await idle(pilot)
        assert not screen.query(PermissionPrompt)
        card = screen.query_one(ToolCard)
        assert card.tool_name == "edit" and card.state == "done"
        assert (tmp_path / "repo" / "calc.py").read_text() == FIXED
        diff = card.query_one(".tool-result")
        assert diff.title == "diff" and not diff.collapsed
        assert "✓ done" in notes(screen)[-1]


async def test_allow_for_session_is_remembered(tmp_path: Path) -> None:
    second = call("edit", path="calc.py", old_string="a + b", new_string="b + a")
    app = chat_app(tmp_path, [EDIT, second, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        await pilot.press("a")
        screen = await idle(pilot)
        assert [c.state for c in screen.query(ToolCard)] == ["done", "done"]  # the second edit did not ask
        assert (tmp_path / "repo" / "calc.py").read_text() == "def add(a, b):\n    return b + a\n"


async def test_the_next_question_takes_the_keys_at_once(tmp_path: Path) -> None:
    """Regression (tmux smoke run): when the agent asked its next question while the answered one was
    still being removed, the message box took the focus back, so "a" for allow was typed into it."""
    app = chat_app(tmp_path, [EDIT, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        first = screen.query_one(PermissionPrompt)
        # The race, made deterministic: the next question is on screen before the answer is handled.
        await screen.on_permission_asked(
            PermissionAsked(PermissionRequest("bash", {"command": "ls"}, "ask mode"))
        )
        await pilot.pause()
        first.request.answer(Decision(True, "allowed once"))
        await screen.on_permission_prompt_answered(
            PermissionPrompt.Answered(first, Decision(True, "allowed once"))
        )
        await pilot.pause()
        focused = app.focused
        assert focused is not None and any(isinstance(a, PermissionPrompt) for a in focused.ancestors)
        await pilot.press("a")
        assert screen.query_one(PromptInput).text == ""


async def test_denying_with_a_reason_tells_the_model(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [EDIT, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        await pilot.press("n")
        await pilot.press(*"use multiply")
        await pilot.press("enter")
        screen = await idle(pilot)
        card = screen.query_one(ToolCard)
        assert card.state == "denied" and "use multiply" in card.detail
        assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY
        tool_messages = [m for m in screen.session.run.agent.messages if m["role"] == "tool"]
        assert "Permission denied for edit" in tool_messages[0]["content"]
        assert "the user said: use multiply" in tool_messages[0]["content"]


async def test_esc_interrupts_and_keeps_the_history_consistent(tmp_path: Path) -> None:
    read = call("read_file", path="calc.py")
    app = chat_app(tmp_path, [EDIT, read, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        await pilot.press("escape")
        screen = await idle(pilot)
        assert "interrupted" in notes(screen)[-1]
        assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY
        agent = screen.session.run.agent
        assert [m["role"] for m in agent.messages] == ["system", "user", "assistant", "tool"]
        assert "interrupted" in agent.messages[-1]["content"]
        assert agent.backend.remaining == 2  # the model was not called again
        assert not screen.query(PermissionPrompt)


async def test_undo_restores_files_and_conversation_but_not_other_work(tmp_path: Path) -> None:
    app = chat_app(tmp_path, FIXING_OUTPUTS, mode="yolo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        (tmp_path / "repo" / "notes.txt").write_text("my own work\n")  # uncommitted, not the agent's
        await send(pilot, "fix add")
        screen = await idle(pilot)
        assert (tmp_path / "repo" / "calc.py").read_text() == FIXED
        await send(pilot, "/undo")
        screen = await idle(pilot)
        assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY
        assert (tmp_path / "repo" / "notes.txt").read_text() == "my own work\n"
        assert "restored calc.py" in notes(screen)[-1]
        assert screen.session.run.agent.messages == []
        await send(pilot, "/undo")
        screen = await idle(pilot)
        assert "nothing to undo" in notes(screen)[-1]


async def test_compact_summarises_older_turns(tmp_path: Path) -> None:
    outputs = [*FIXING_OUTPUTS, "The agent read calc.py, fixed add and ran the tests."]
    app = chat_app(tmp_path, outputs, mode="yolo", context={"keep_recent_turns": 1})
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        screen = await idle(pilot)
        before = screen.status.info.context_used
        await send(pilot, "/compact")
        screen = await idle(pilot)
        assert notes(screen)[-1].startswith("compacted 3 turns:")
        summary = [
            m
            for m in screen.session.run.agent.messages
            if "[Summary of earlier work" in str(m.get("content"))
        ]
        assert summary and "fixed add" in summary[0]["content"]
        assert 0 < screen.status.info.context_used < before


async def test_resume_shows_the_old_conversation_and_continues_it(tmp_path: Path) -> None:
    first = chat_app(tmp_path, [EDIT, FINISH], mode="yolo")
    async with first.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "fix add")
        screen = await idle(pilot)
        session_id = screen.session.session_id
        earlier = list(screen.session.run.agent.messages)
    second = chat_app(tmp_path, ["It adds now."], mode="yolo", resume="")
    async with second.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_for(pilot, lambda: "resumed" in notes(screen)[-1])
        assert screen.session.session_id == session_id
        assert [str(m.render()) for m in screen.query(UserMessage)] == ["› fix add"]
        assert screen.query_one(ToolCard).tool_name == "edit"
        assert any("✓ done" in n for n in notes(screen)) and "resumed" in notes(screen)[-1]
        await send(pilot, "does it work?")
        screen = await idle(pilot)
        assert screen.session.run.agent.messages[: len(earlier)] == earlier
    saved = load_session(session_id, tmp_path / "sessions")
    assert saved.messages[: len(earlier)] == earlier  # appended to, not duplicated
    assert [m["content"] for m in saved.messages[len(earlier) :]] == ["does it work?", "It adds now."]


async def test_mention_completes_and_attaches_the_file(tmp_path: Path) -> None:
    app = chat_app(tmp_path, ["Seen it."])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        screen.query_one("#prompt").focus()
        await pilot.press(*"look at @ca")
        await pilot.press("tab")
        assert screen.query_one("#prompt").text == "look at @calc.py "
        await pilot.press("enter")
        screen = await idle(pilot)
        sent = screen.session.run.agent.messages[1]["content"]
        assert sent.startswith("look at @calc.py") and '<file path="calc.py">\n' + BUGGY.rstrip() in sent
        assert "attached: @calc.py" in str(screen.query_one(UserMessage).render())


async def test_history_unknown_command_mode_and_help(tmp_path: Path) -> None:
    app = chat_app(tmp_path, ["one"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/nope")
        await pilot.pause()
        assert "unknown command /nope" in notes(screen)[-1]
        await send(pilot, "/mode auto-edit")
        await pilot.pause()
        assert screen.session.run.agent.permissions.settings.mode == "auto-edit"
        assert screen.status.info.mode == "auto-edit"
        await pilot.press("up")
        assert screen.query_one("#prompt").text == "/mode auto-edit"
        await pilot.press("up", "down", "down")
        assert screen.query_one("#prompt").text == ""
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert app.screen is screen
        await send(pilot, "/exit")
        await pilot.pause()
    assert app.return_code == 0


async def test_diff_cost_model_sessions_and_clear(tmp_path: Path) -> None:
    app = chat_app(tmp_path, FIXING_OUTPUTS, mode="yolo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        screen = await idle(pilot)
        await send(pilot, "/diff")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DiffScreen")
        assert "+    return a + b" in app.screen.diff
        await pilot.press("escape")
        await send(pilot, "/cost")
        await pilot.pause()
        assert f"this session: {screen.tokens} tokens over 4 steps" in notes(screen)[-1]
        await send(pilot, "/model")
        await pilot.pause()
        assert notes(screen)[-1].startswith("model: ") and "\nbackend: replay" in notes(screen)[-1]
        old_id = screen.session.session_id
        await send(pilot, "/sessions")
        await pilot.pause()
        assert old_id in notes(screen)[-1] and "fix add" in notes(screen)[-1]
        await send(pilot, "/clear")
        await pilot.pause()
        assert screen.session.session_id != old_id and screen.session.run.agent.messages == []
        assert not screen.query(UserMessage) and len(notes(screen)) == 1


async def test_sessions_lists_only_this_workspaces(tmp_path: Path) -> None:
    """Regression: /sessions listed every repository's sessions, though --resume opens only this one's."""
    app = chat_app(tmp_path, [])
    sessions = tmp_path / "sessions"
    for name, workspace in (("mine", tmp_path / "repo"), ("theirs", tmp_path / "elsewhere")):
        writer = SessionWriter(sessions / f"{name}.jsonl", {"workspace": str(workspace.resolve())})
        writer.sync([{"role": "user", "content": f"task of {name}"}])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/sessions")
        await pilot.pause()
        shown = notes(screen)[-1]
    assert "task of mine" in shown and screen.session.session_id in shown
    assert "theirs" not in shown


async def test_quitting_during_a_permission_question_releases_the_agent(tmp_path: Path) -> None:
    app = chat_app(tmp_path, [EDIT, FINISH], mode="ask")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: screen.query(PermissionPrompt))
        request = screen.query_one(PermissionPrompt).request
        await pilot.press("ctrl+q")
    assert request.future.result(timeout=5).allowed is False  # the worker thread is not left waiting
    assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY


async def test_multiline_input_and_engine_stats_reach_the_status_bar(tmp_path: Path) -> None:
    app = chat_app(tmp_path, ["ok"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one("#prompt")
        prompt.focus()
        await pilot.press("a", "ctrl+j", "b", "\\", "enter", "c")
        assert prompt.text == "a\nb\nc"
        stats = {"tokens_per_second": 38.25, "mtp_accepted_length": 2.6}
        screen.post_message(
            AgentEvent(
                ev.AssistantMessage(
                    step=1,
                    content="",
                    reasoning=None,
                    raw="",
                    finish_reason="stop",
                    prompt_tokens=100,
                    completion_tokens=20,
                    seconds=0.5,
                    stats=stats,
                )
            )
        )
        await pilot.pause()
        status = str(screen.status.render())
        assert "38.2 tok/s" in status and "mtp 2.60" in status and "120 tok" in status
        await pilot.press("enter")
        screen = await idle(pilot)
        assert screen.session.run.agent.messages[1]["content"] == "a\nb\nc"
