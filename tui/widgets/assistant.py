"""One assistant reply: reasoning streamed dim (folded when done) and the answer streamed as Markdown.

The raw stream is split by the tool-calling layer's incremental parser, so `<think>` and tool-call
markup never show as text (tool calls get their own cards).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from mimo_agent.toolcalls.events import ReasoningDelta, TextDelta
from mimo_agent.toolcalls.parser import StreamParser


class AssistantReply(Vertical):
    def __init__(self, tools: Iterable[object] = (), fmt: str = "auto") -> None:
        super().__init__(classes="assistant")
        self._parser = StreamParser(list(tools), fmt)  # type: ignore[arg-type]
        self._stream: MarkdownStream | None = None
        self._text = ""
        self._reasoning = ""

    def compose(self) -> ComposeResult:
        with Collapsible(title="thinking…", collapsed=False, classes="reasoning"):
            yield Static("", classes="reasoning-text", markup=False)
        yield Markdown(classes="answer")

    def on_mount(self) -> None:
        self.query_one(".reasoning").display = False

    @property
    def text(self) -> str:
        return self._text

    async def feed(self, delta: str) -> None:
        for event in self._parser.feed(delta):
            if isinstance(event, TextDelta):
                await self._write(event.text)
            elif isinstance(event, ReasoningDelta):
                self._show_reasoning(self._reasoning + event.text)

    async def _write(self, text: str) -> None:
        if not self._text and not text.strip():
            return
        self._text += text
        if self._stream is None:
            self._stream = Markdown.get_stream(self.query_one(Markdown))
        await self._stream.write(text)

    def _show_reasoning(self, text: str) -> None:
        self._reasoning = text
        box = self.query_one(".reasoning", Collapsible)
        box.display = bool(text.strip())
        self.query_one(".reasoning-text", Static).update(text.strip())

    async def finish(self, content: str, reasoning: str | None, interrupted: bool = False) -> None:
        """The step is over: show the parsed answer as the final Markdown and fold the reasoning."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        final = self._text.strip() if interrupted else content.strip()
        if interrupted and final:  # nothing streamed: no reply at all, the screen's note says what happened
            final = f"{final}\n\n*[interrupted]*"
        if final != self._text.strip() or interrupted:
            await self.query_one(Markdown).update(final)
        self._text = final
        if reasoning is not None:
            self._show_reasoning(reasoning)
        if self._reasoning.strip():
            box = self.query_one(".reasoning", Collapsible)
            box.title = f"thought ({len(self._reasoning.strip().splitlines())} lines)"
            box.collapsed = True
        self.query_one(Markdown).display = bool(final)
        self.display = bool(final or self._reasoning.strip())
