"""The chat screen: conversation, message box and status bar; turns agent events into widgets.

The agent runs in thread workers; it reaches this screen only through `post_message` (AgentEvent,
PermissionAsked, TurnEnded, WorkDone), so no widget is touched off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from mimo_agent.agent import events as ev
from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import RunSetupError
from mimo_agent.agent.sessions import SessionError, sessions_dir
from mimo_agent.backends.base import BackendError
from mimo_agent.settings import SettingsError
from mimo_agent.tools.git import GitError
from mimo_agent.tui.bridge import ANSWERED
from mimo_agent.tui.chat_session import ChatError, ChatOptions, ChatSession, recent_sessions
from mimo_agent.tui.commands import SlashCommand, UnknownCommand, model_report, parse_command
from mimo_agent.tui.mentions import MentionError, attachments, with_attachments, workspace_files
from mimo_agent.tui.messages import AgentEvent, PermissionAsked, SessionOpened, TurnEnded, WorkDone
from mimo_agent.tui.screens.diff import DiffScreen
from mimo_agent.tui.screens.help import HelpScreen
from mimo_agent.tui.widgets.assistant import AssistantReply
from mimo_agent.tui.widgets.conversation import Conversation
from mimo_agent.tui.widgets.notes import Note, UserMessage
from mimo_agent.tui.widgets.permission import PermissionPrompt
from mimo_agent.tui.widgets.prompt_input import PromptInput
from mimo_agent.tui.widgets.status_bar import StatusBar, StatusInfo
from mimo_agent.tui.widgets.tool_card import ToolCard

WORKER_ERRORS = (ChatError, GitError, RunSetupError, SettingsError, SessionError, BackendError, MentionError)
# These change the history, so they are refused while anything runs.
BUSY_COMMANDS = frozenset({"undo", "compact", "clear"})
# These run git or the model in a worker, one at a time; /diff only reads, so it may run during a turn.
THREAD_COMMANDS = frozenset({"undo", "compact", "diff"})


class MainScreen(Screen[None]):
    CSS_PATH = "main.tcss"
    BINDINGS = [Binding("escape", "interrupt", "interrupt", show=False)]

    def __init__(self, options: ChatOptions) -> None:
        super().__init__()
        self.options = options
        self.session = ChatSession(
            options,
            post_event=lambda event: self.post_message(AgentEvent(event)),
            ask=lambda request: self.post_message(PermissionAsked(request)),
        )
        # Two flags, not one: a read-only command (/diff) may run during a turn, and its end must not end the turn.
        self.turn_running = False
        self.command_running: str | None = None  # the slash command working in a thread
        self.reply: AssistantReply | None = None
        self.tokens = 0
        self.steps = 0  # model calls in this conversation; the agent's own counter survives /clear

    # -- layout ------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Conversation(id="conversation")
        yield Static("", id="hint", markup=False)
        yield PromptInput(id="prompt")
        yield StatusBar(id="status")

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def busy(self) -> bool:
        return self.turn_running or self.command_running is not None

    @property
    def dark(self) -> bool:
        return self.app.current_theme.dark

    async def on_mount(self) -> None:
        self.query_one("#hint").display = False
        self.query_one(PromptInput).focus()
        name = Path(self.options.workspace).resolve().name
        await self.conversation.add(
            Note(f"mimo-agent in {name}: type a message, @ to attach a file, ? or /help for keys", "info")
        )
        self.status.info = StatusInfo(state="loading")
        self._open()

    async def on_unmount(self) -> None:
        self.session.close()

    # -- start-up ----------------------------------------------------------------------------------------
    @work(thread=True, group="agent")
    def _open(self) -> None:
        try:
            history = self.session.open()
            files = workspace_files(self.session.run.repo.root)
            self.post_message(SessionOpened(history, files, self.session.context_tokens()))
        except WORKER_ERRORS as exc:
            self.post_message(WorkDone("open", str(exc), error=True))

    async def on_session_opened(self, message: SessionOpened) -> None:
        settings = self.session.run.settings
        model = settings.model
        label = Path(model.path).name if model.path else model.model_name or ""
        usage = self.session.usage  # a resumed session's counters go on from where they were
        self.steps, self.tokens = usage.steps, usage.tokens
        self.status.info = StatusInfo(
            backend=self.session.run.agent.backend.name,
            model=label,
            mode=settings.permissions.mode,
            context_used=message.context_tokens,
            context_limit=model.context_window,
            steps=self.steps,
            session_tokens=self.tokens,
            state="ready",
        )
        self.query_one(PromptInput).files = message.files
        if message.history:
            await self.conversation.replay(
                message.history, list(self.session.run.agent.tools), model.tool_format, self.dark
            )

    # -- sending -----------------------------------------------------------------------------------------
    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        try:
            command = parse_command(message.text)
        except UnknownCommand as exc:
            await self.conversation.add(Note(str(exc), "error"))
            return
        if command is not None:
            await self.run_command(command)
            return
        if self.session.prepared is None:
            failed = self.status.info.state == "error"
            await self.conversation.add(
                Note(
                    "mimo-agent could not start (see above); fix that and restart"
                    if failed
                    else "the model is still loading",
                    "error",
                )
            )
            return
        if self.busy:
            running = f"/{self.command_running}"
            waiting = "the turn to end or press esc to interrupt" if self.turn_running else running
            await self.conversation.add(Note(f"still working: wait for {waiting}", "error"))
            return
        try:
            files = attachments(message.text, self.session.run.repo.root)
        except MentionError as exc:
            await self.conversation.add(Note(str(exc), "error"))
            return
        await self.conversation.add(UserMessage(message.text, [f.path for f in files]))
        self.turn_running = True
        self._show_state()
        self._turn(with_attachments(message.text, files), message.text)

    @work(thread=True, group="agent")
    def _turn(self, text: str, display: str) -> None:
        try:
            run = self.session.run_turn(text, display)
        except WORKER_ERRORS as exc:
            self.post_message(TurnEnded(None, str(exc)))
            return
        self.post_message(TurnEnded(run))

    def _show_state(self) -> None:
        self.status.info = self.status.info.but(state="working" if self.busy else "ready")

    async def on_turn_ended(self, message: TurnEnded) -> None:
        self.turn_running = False
        self._show_state()
        run = message.run
        if run is None:
            await self.conversation.add(Note(f"error: {message.error}", "error"))
            return
        outcome = run.outcome
        if outcome.kind is OutcomeKind.INTERRUPTED:
            if self.reply is not None:
                await self.reply.finish("", None, interrupted=True)
            await self.conversation.add(
                Note("interrupted: files and history are as the last finished step left them", "error")
            )
        elif outcome.kind is OutcomeKind.FINISHED:
            if outcome.message != ANSWERED and outcome.summary:
                await self.conversation.add(Note(f"✓ {outcome.summary}", "done"))
        else:
            await self.conversation.add(Note(f"stopped ({outcome.kind.value}): {outcome.message}", "error"))
        self.reply = None

    def action_interrupt(self) -> None:
        if self.turn_running:
            self.session.interrupt()
            self.status.info = self.status.info.but(state="interrupting")

    # -- agent events ------------------------------------------------------------------------------------
    async def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        conversation = self.conversation
        if isinstance(event, ev.StepStarted):
            self.steps += 1
            self.status.info = self.status.info.but(steps=self.steps, context_used=event.prompt_tokens)
            self.reply = AssistantReply(
                self.session.run.agent.tools, self.session.run.settings.model.tool_format
            )
            await conversation.add(self.reply)
        elif isinstance(event, ev.AssistantDelta) and self.reply is not None:
            await self.reply.feed(event.text)
        elif isinstance(event, ev.AssistantMessage):
            if self.reply is not None:
                await self.reply.finish(event.content, event.reasoning)
                self.reply = None
            self.tokens += event.prompt_tokens + event.completion_tokens
            stats = event.stats
            self.status.info = self.status.info.but(
                tokens_per_second=stats.get("tokens_per_second", self.status.info.tokens_per_second),
                mtp_accepted=stats.get("mtp_accepted_length", self.status.info.mtp_accepted),
                session_tokens=self.tokens,
            )
        elif isinstance(event, ev.ToolCallParsed) and event.name != "finish":  # its summary ends the turn
            await conversation.add(ToolCard(event.call_id, event.name, event.arguments, event.repairs))
        elif isinstance(event, ev.PermissionDecided):
            for prompt in conversation.query(PermissionPrompt):
                if prompt.request.future.done():  # answered elsewhere: by esc or on exit
                    await prompt.remove()
            if card := conversation.card(event.call_id):
                card.decided(event.allowed, "" if event.allowed else event.reason)
        elif isinstance(event, ev.ToolFinished):
            if card := conversation.card(event.call_id):
                await card.finished(event.output, event.is_error, event.metadata, self.dark)
        elif isinstance(event, ev.ToolCallInvalid):
            await conversation.add(Note("invalid tool call: " + "; ".join(event.errors), "error"))
        elif isinstance(event, ev.Notice):
            await conversation.add(Note(f"{event.kind}: {event.text}", "info"))
        elif isinstance(event, ev.Compacted):
            await conversation.add(
                Note(
                    f"compacted {event.turns_summarised} turns: {event.tokens_before} → {event.tokens_after} tokens",
                    "info",
                )
            )
            self.status.info = self.status.info.but(context_used=event.tokens_after)

    async def on_permission_asked(self, message: PermissionAsked) -> None:
        await self.conversation.add(PermissionPrompt(message.request))

    async def on_permission_prompt_answered(self, message: PermissionPrompt.Answered) -> None:
        await message.prompt.remove()
        # The agent may have asked the next question while this one was being removed: the keys
        # belong to it then, not to the message box (else "a" for allow lands in the input).
        pending = [
            prompt for prompt in self.conversation.query(PermissionPrompt) if prompt is not message.prompt
        ]
        if pending:
            pending[-1].take_focus()
        else:
            self.query_one(PromptInput).focus()

    # -- slash commands ----------------------------------------------------------------------------------
    async def run_command(self, command: SlashCommand) -> None:
        add = self.conversation.add
        if command.name in BUSY_COMMANDS and self.turn_running:
            await add(Note(f"/{command.name} waits until the turn ends (esc interrupts it)", "error"))
            return
        if self.command_running is not None and command.name in BUSY_COMMANDS | THREAD_COMMANDS:
            await add(Note(f"/{command.name} waits until /{self.command_running} is done", "error"))
            return
        if command.name != "help" and command.name != "exit" and self.session.prepared is None:
            await add(Note("the model is still loading", "error"))
            return
        name, arg = command.name, command.argument
        if name == "help":
            self.action_help()
        elif name == "exit":
            self.app.exit()
        elif name == "model":
            run = self.session.run
            await add(
                Note(
                    model_report(run.settings.model, run.agent.backend.name, self.session.session_id), "info"
                )
            )
        elif name == "mode":
            if arg:
                try:
                    self.session.set_mode(arg)
                except ChatError as exc:
                    await add(Note(str(exc), "error"))
                    return
                self.status.info = self.status.info.but(mode=arg)
            await add(Note(f"permission mode: {self.session.run.agent.permissions.settings.mode}", "info"))
        elif name == "cost":
            info = self.status.info
            await add(
                Note(
                    f"this session: {self.tokens} tokens over {info.steps} steps; context now "
                    f"{info.context_used} of {info.context_limit} tokens (a local model costs no money)",
                    "info",
                )
            )
        elif name == "sessions":
            directory = self.options.sessions_directory or sessions_dir(self.options.environ)
            found = recent_sessions(directory, workspace=self.session.run.agent.workspace)
            header = f"this workspace's sessions in {directory} (this one: {self.session.session_id}):"
            lines = [f"{s.id}  {s.messages:>4} msgs  {s.first_message}" for s in found] or [
                "no saved sessions"
            ]
            await add(
                Note("\n".join([header, *lines, "reopen one with: mimo-agent chat --resume ID"]), "info")
            )
        elif name == "clear":
            new_id = self.session.clear()
            await self.conversation.remove_children()
            self.tokens = self.steps = 0
            self.status.info = self.status.info.but(context_used=0, session_tokens=0, steps=0)
            await add(Note(f"new conversation (session {new_id})", "info"))
        else:
            self.command_running = name
            self._show_state()
            self._in_thread(
                name, {"undo": self._undo, "compact": self._compact, "diff": self.session.diff}[name]
            )

    @work(thread=True, group="agent")
    def _in_thread(self, command: str, job: Callable[[], str]) -> None:
        try:
            text = job()
            self.post_message(WorkDone(command, text, context_tokens=self.session.context_tokens()))
        except WORKER_ERRORS as exc:
            self.post_message(WorkDone(command, f"/{command}: {exc}", error=True))

    def _undo(self) -> str:
        turn, restored = self.session.undo()
        files = ", ".join(restored) if restored else "no files had changed"
        return f"undid “{turn.text[:60]}”: restored {files}; the conversation is back to before it"

    def _compact(self) -> str:
        result = self.session.compact()
        if not result.turns:
            return "nothing to compact yet (the recent turns are kept verbatim)"
        return f"compacted {result.turns} turns: {result.tokens_before} → {result.tokens_after} tokens"

    async def on_work_done(self, message: WorkDone) -> None:
        if message.command == self.command_running:
            self.command_running = None
            self._show_state()
        if message.command == "open":
            self.status.info = self.status.info.but(state="error")
        if message.context_tokens is not None:
            self.status.info = self.status.info.but(context_used=message.context_tokens)
        if message.command == "diff" and not message.error:
            await self.app.push_screen(DiffScreen(message.text, self.dark))
            return
        if message.command == "undo" and not message.error:
            await self.conversation.add(Note(message.text, "done"))
            return
        await self.conversation.add(Note(message.text, "error" if message.error else "info"))

    # -- input helpers -----------------------------------------------------------------------------------
    def on_prompt_input_completions(self, message: PromptInput.Completions) -> None:
        hint = self.query_one("#hint", Static)
        shown = message.candidates[:8]
        more = len(message.candidates) - len(shown)
        hint.update("  ".join(shown) + (f"  … {more} more" if more > 0 else ""))
        hint.display = bool(shown)

    def on_prompt_input_help_requested(self) -> None:
        self.action_help()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())
