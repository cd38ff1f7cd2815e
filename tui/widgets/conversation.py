"""The scrolling transcript; rebuilds a resumed session's messages as the same widgets a live turn makes."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.widget import Widget

from mimo_agent.agent.compaction import SUMMARY_HEADER
from mimo_agent.backends.base import Message
from mimo_agent.tui.widgets.assistant import AssistantReply
from mimo_agent.tui.widgets.notes import Note, UserMessage
from mimo_agent.tui.widgets.tool_card import ToolCard

FILE_BLOCK = '\n\n<file path="'  # where mentioned files start in a user message (mentions.with_attachments)
SUMMARY_START = SUMMARY_HEADER.partition("{")[0]


class Conversation(VerticalScroll):
    def on_mount(self) -> None:
        self.anchor()

    async def add(self, widget: Widget) -> Widget:
        await self.mount(widget)
        return widget

    def card(self, call_id: str) -> ToolCard | None:
        for card in self.query(ToolCard):
            if card.call_id == call_id:
                return card
        return None

    async def replay(self, history: list[Message], tools: list[Any], fmt: str, dark: bool) -> None:
        """Show earlier messages (a resumed session) the way they looked live."""
        first_user = True
        for message in history:
            role, content = message.get("role"), str(message.get("content") or "")
            if role == "user":
                if content.startswith(SUMMARY_START):
                    await self.add(Note(content.splitlines()[0], "info"))
                else:
                    text, _, _ = content.partition(FILE_BLOCK)
                    await self.add(UserMessage(text.strip()))
                first_user = False
            elif role == "assistant":
                reply = await self.add(AssistantReply(tools, fmt))
                assert isinstance(reply, AssistantReply)
                await reply.finish(content, message.get("reasoning_content"))
                for call in message.get("tool_calls") or []:
                    fn = call["function"]
                    if fn["name"] == "finish":
                        await self.add(Note(f"✓ {fn['arguments'].get('summary', '')}", "done"))
                    else:
                        await self.add(ToolCard(call["id"], fn["name"], fn["arguments"]))
            elif role == "tool":
                card = self.card(str(message.get("tool_call_id")))
                if card is not None:
                    denied = content.startswith("Permission denied")
                    if denied:
                        card.decided(False, content.partition(": ")[2])
                    await card.finished(content, denied, {}, dark)
        if not first_user:
            await self.add(Note("── resumed: the conversation above is in the model's context ──", "info"))
