"""The agent loop: query → parse/validate/repair → permission → execute → observe, until an outcome.

One step is one model call. Budgets are checked before it; every way out raises `RunStopped` with a
typed outcome, and any other failure becomes an ERROR outcome. The trajectory is appended to after every
step and written whole in `finally`. A cancellation token (a `threading.Event` the driver sets, e.g. on
Esc) is checked before each step, before compaction and between tool calls, and handed to the backend
and, through the tool context, to bash, so an interrupt ends the run at a point where the history is valid.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_agent.agent import events as ev
from mimo_agent.agent.budgets import BudgetTracker
from mimo_agent.agent.compaction import Compactor
from mimo_agent.agent.loop_detect import NUDGE_TEXT, LoopDetector, LoopVerdict, call_signature
from mimo_agent.agent.observation import shape_observation
from mimo_agent.agent.outcome import Outcome, OutcomeKind, RunStopped
from mimo_agent.agent.permissions import Approver, PermissionPolicy, Verdict
from mimo_agent.agent.prompts import system_prompt, task_prompt
from mimo_agent.agent.sessions import SessionWriter
from mimo_agent.agent.trajectory import Trajectory
from mimo_agent.backends.base import Backend, BackendError, Message, complete, context_limit, text_counter
from mimo_agent.settings import Settings
from mimo_agent.toolcalls.calls import ToolCall
from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.toolcalls.feedback import feedback_for
from mimo_agent.toolcalls.parser import parse

NO_CALL_TEXT = (
    "Your last reply contained no tool call. Act through the tools: call one now, or call `finish` with a "
    "summary if the task is done."
)
INTERRUPT_MARK = "[interrupted by the user]"
ANSWERED = "the assistant answered"
NOT_RUN = "Not run: the user interrupted the turn before this call."


def estimate_tokens(text: str) -> int:
    """The fallback when the backend has no tokenizer."""
    return len(text) // 4


@dataclass
class AgentRun:
    """What a driver gets back: the outcome plus the conversation, for sessions and resumption."""

    outcome: Outcome
    messages: list[Message]
    steps: int
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Agent:
    backend: Backend
    tools: Sequence[ToolDef]
    tool_context: Any  # mimo_agent.tools.context.ToolContext; opaque here so the loop stays tool-agnostic
    workspace: Path
    settings: Settings
    permissions: PermissionPolicy
    approver: Approver
    on_event: Callable[[ev.Event], None] = lambda event: None
    trajectory_path: Path | None = None
    # Tokens of one observation; default: the backend's tokenizer, else an estimate.
    count_text_tokens: Callable[[str], int] | None = None
    session: SessionWriter | None = None
    messages: list[Message] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)  # set by the driver to interrupt
    end_turn_on_answer: bool = False  # a chat: an answer without a tool call ends the run (else: a reminder)

    def __post_init__(self) -> None:
        self._by_name = {tool.name: tool for tool in self.tools}
        self._compactor = Compactor(self.settings.context, self.settings.model, context_limit(self.backend))
        self._trajectory = Trajectory(self.trajectory_path, info={})
        self._count_text = self.count_text_tokens or text_counter(self.backend) or estimate_tokens
        self._step = 0

    # -- driving -----------------------------------------------------------------------------------------
    def run(self, task: str, *, base_commit: str | None = None) -> AgentRun:
        """Run `task` to an outcome. Resuming: pass the earlier `messages` in the constructor and a new task."""
        # Budgets and loop detection are per task: a chat's later turns start fresh.
        self._budgets = BudgetTracker(self.settings.budgets)
        self._loops = LoopDetector(repeats=self.settings.budgets.max_repeated_calls)
        if not self.messages:
            self.messages.append(
                {"role": "system", "content": system_prompt(self.workspace, self.settings.context.date)}
            )
        self.messages.append({"role": "user", "content": task_prompt(task)})
        self._trajectory.set_info(
            {
                "task": task,
                "workspace": str(self.workspace),
                "backend": self.backend.name,
                "base_commit": base_commit,
                "settings": self.settings.model_dump(mode="json"),
            }
        )
        self._emit(
            ev.RunStarted(
                task=task, workspace=str(self.workspace), backend=self.backend.name, base_commit=base_commit
            )
        )
        started = time.monotonic()
        try:
            while True:
                self._one_step()
                self._save()
        except RunStopped as stop:
            outcome = stop.outcome
        except KeyboardInterrupt:
            outcome = Outcome(OutcomeKind.INTERRUPTED, "interrupted by the user")
        except BackendError as exc:
            outcome = Outcome(OutcomeKind.ERROR, f"backend {self.backend.name}: {exc}")
        except Exception as exc:  # a bug or an unexpected environment failure: still a typed outcome
            outcome = Outcome(
                OutcomeKind.ERROR,
                f"unexpected {type(exc).__name__}: {exc}",
                detail={"traceback": traceback.format_exc(limit=8)},
            )
        finally:
            self._save()
        budgets = self._budgets
        self._emit(
            ev.RunFinished(
                outcome=outcome.to_json(),
                steps=budgets.steps,
                prompt_tokens=budgets.prompt_tokens,
                completion_tokens=budgets.completion_tokens,
                seconds=round(time.monotonic() - started, 3),
            )
        )
        self._trajectory.outcome = outcome.to_json()
        self._trajectory.save()
        return AgentRun(
            outcome, self.messages, budgets.steps, budgets.prompt_tokens, budgets.completion_tokens
        )

    # -- one step ----------------------------------------------------------------------------------------
    def _one_step(self) -> None:
        self._check_cancel()
        self._budgets.check()
        prompt_tokens = self.backend.count_tokens(self.messages, self.tools)
        if self._compactor.should_compact(prompt_tokens):
            self._check_cancel()
            self._compact(prompt_tokens)
            prompt_tokens = self.backend.count_tokens(self.messages, self.tools)
        self._step += 1
        self._emit(ev.StepStarted(step=self._step, prompt_tokens=prompt_tokens))
        started = time.monotonic()
        # Per-token deltas go to the driver only: the trajectory has the whole message (and its raw text).
        completion = complete(
            self.backend,
            self.messages,
            self.tools,
            on_delta=lambda text: self.on_event(ev.AssistantDelta(text=text)),
            cancel=self.cancel,
        )
        self._budgets.record_model_call(completion.usage.prompt_tokens, completion.usage.completion_tokens)
        interrupted = completion.finish_reason == "interrupted" or self.cancel.is_set()
        turn = parse(
            completion.text,
            self.tools,
            fmt=self.settings.model.tool_format,
            native_calls=[] if interrupted else completion.native_tool_calls,
            truncated=completion.finish_reason in ("length", "interrupted"),
        )
        reasoning = completion.reasoning or turn.reasoning or None
        valid = [] if interrupted else turn.valid_calls  # a cut-off reply's calls never run
        for call in valid:
            call.id = call.id or f"call_{uuid.uuid4().hex[:12]}"
        content = f"{turn.text.strip()}\n\n{INTERRUPT_MARK}".strip() if interrupted else turn.text
        if not interrupted or turn.text.strip() or reasoning:  # an interrupt before any text leaves none
            self.messages.append(_assistant_message(content, reasoning, valid))
        self._emit(
            ev.AssistantMessage(
                step=self._step,
                content=content,
                reasoning=reasoning,
                raw=completion.text,
                finish_reason="interrupted" if interrupted else completion.finish_reason,
                prompt_tokens=completion.usage.prompt_tokens,
                completion_tokens=completion.usage.completion_tokens,
                seconds=round(time.monotonic() - started, 3),
                stats=completion.stats,
            )
        )
        if interrupted:
            raise RunStopped(
                Outcome(OutcomeKind.INTERRUPTED, "interrupted by the user while the model was answering")
            )
        if not turn.calls and self.end_turn_on_answer:
            self._budgets.record_calls(valid=True)
            raise RunStopped(Outcome(OutcomeKind.FINISHED, ANSWERED))
        final: str | None = None
        for index, call in enumerate(valid):
            if self.cancel.is_set():
                self._skip(valid[index:])
            self._emit(
                ev.ToolCallParsed(
                    call_id=call.id, name=call.name, arguments=call.arguments, repairs=call.repairs
                )
            )
            summary = self._execute(call)
            if summary is not None:
                final = summary
        problems: list[str] = []
        for call in turn.failed_calls:
            problems.append(feedback_for(call, self.tools, self.settings.model.tool_format))
            self._emit(ev.ToolCallInvalid(errors=[e.message for e in call.errors], feedback=problems[-1]))
        if not turn.calls:
            problems.append(NO_CALL_TEXT)
            self._emit(ev.Notice(kind="no_tool_call", text=NO_CALL_TEXT))
        if problems:
            self.messages.append({"role": "user", "content": "\n\n".join(problems)})
        self._budgets.record_calls(valid=not problems)
        if final is not None:
            raise RunStopped(Outcome(OutcomeKind.FINISHED, "the agent called finish", summary=final))
        self._check_loops(valid)

    def _execute(self, call: ToolCall) -> str | None:
        """Run one validated call and append its observation; returns the summary when it was `finish`."""
        tool = self._by_name[call.name]
        check = self.permissions.check(call.name, call.arguments)
        allowed, reason = check.verdict is Verdict.ALLOW, check.reason
        if check.verdict is Verdict.ASK:
            decision = self.approver.decide(call.name, call.arguments, check)
            allowed, reason = decision.allowed, decision.reason
            if decision.allowed and decision.remember:
                self.permissions.remember(call.name, call.arguments)
        self._emit(ev.PermissionDecided(call_id=call.id, name=call.name, allowed=allowed, reason=reason))
        started = time.monotonic()
        if allowed:
            result = tool.handler(call.arguments, self.tool_context)
            output, is_error, metadata = result.output, result.is_error, result.metadata
        else:
            output, is_error, metadata = f"Permission denied for {call.name}: {reason}", True, {}
        observation = shape_observation(
            output,
            max_tokens=self.settings.context.observation_max_tokens,
            count_tokens=self._count_text,
            workspace=self.workspace,
            name=f"step-{self._step}-{call.id}",
        )
        self._emit(
            ev.ToolFinished(
                call_id=call.id,
                name=call.name,
                output=observation,
                is_error=is_error,
                seconds=round(time.monotonic() - started, 3),
                metadata=_jsonable(metadata),
            )
        )
        self.messages.append(
            {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": observation}
        )
        return str(metadata.get("summary", output)) if metadata.get("final") else None

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise RunStopped(Outcome(OutcomeKind.INTERRUPTED, "interrupted by the user"))

    def _skip(self, calls: list[ToolCall]) -> None:
        """Answer the calls an interrupt left unrun, so every call in the history has its result."""
        for call in calls:
            self.messages.append(
                {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": NOT_RUN}
            )
        raise RunStopped(Outcome(OutcomeKind.INTERRUPTED, "interrupted by the user between tool calls"))

    def _check_loops(self, calls: list[ToolCall]) -> None:
        for call in calls:
            verdict = self._loops.observe(call_signature(call.name, call.arguments))
            if verdict is LoopVerdict.NUDGE:
                self.messages.append({"role": "user", "content": NUDGE_TEXT})
                self._emit(ev.Notice(kind="loop_nudge", text=NUDGE_TEXT))
                return
            if verdict is LoopVerdict.STOP:
                raise RunStopped(
                    Outcome(OutcomeKind.LOOP_DETECTED, f"the agent kept repeating {call.name} after a nudge")
                )

    def _compact(self, tokens_before: int) -> None:
        summarised = self._compactor.compact(self.messages, self.backend, self.tools)
        if not summarised:  # nothing old enough to summarise yet
            return
        tokens_after = self.backend.count_tokens(self.messages, self.tools)
        self._emit(
            ev.Compacted(tokens_before=tokens_before, tokens_after=tokens_after, turns_summarised=summarised)
        )

    def _save(self) -> None:
        """After every step: append what is new (the whole trajectory is written when the run ends)."""
        self._trajectory.sync(self.messages)
        self._trajectory.flush()
        if self.session is not None:
            self.session.sync(self.messages)

    def _emit(self, event: ev.Event) -> None:
        self._trajectory.add(event)
        self.on_event(event)


def _assistant_message(content: str, reasoning: str | None, calls: list[ToolCall]) -> Message:
    message: Message = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    return message


def _jsonable(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | list | dict | type(None)) else str(v)
        for k, v in metadata.items()
    }
