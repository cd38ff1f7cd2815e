"""The message box: multi-line, Enter sends, history on up/down, Tab completes `@path` mentions."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from mimo_agent.tui.mentions import complete, mention_at


class InputHistory:
    """Sent messages, browsed like a shell's history; the draft being typed is kept while browsing."""

    def __init__(self, entries: list[str] | None = None) -> None:
        self.entries = list(entries or [])
        self._index = len(self.entries)
        self._draft = ""

    def add(self, text: str) -> None:
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
        self._index = len(self.entries)
        self._draft = ""

    def previous(self, current: str) -> str | None:
        if self._index == 0:
            return None
        if self._index == len(self.entries):
            self._draft = current
        self._index -= 1
        return self.entries[self._index]

    def next(self) -> str | None:
        if self._index >= len(self.entries):
            return None
        self._index += 1
        return self._draft if self._index == len(self.entries) else self.entries[self._index]


class PromptInput(TextArea):
    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Completions(Message):
        """Candidates for the mention being typed (empty: hide the hint)."""

        def __init__(self, candidates: list[str]) -> None:
            super().__init__()
            self.candidates = candidates

    class HelpRequested(Message):
        pass

    def __init__(self, files: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", show_line_numbers=False, **kwargs)  # type: ignore[arg-type]
        self.sent = InputHistory()  # not `history`: TextArea keeps its undo stack there
        self.files = files or []

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        row, column = self.cursor_location
        if key == "enter":
            self._stop(event)
            line = self.document[row]
            if column > 0 and line[:column].endswith("\\"):
                self.replace("\n", (row, column - 1), (row, column))
            else:
                self._submit()
            return
        if key in ("ctrl+j", "shift+enter", "alt+enter"):
            self._stop(event)
            self.insert("\n")
            return
        if key == "tab":
            self._stop(event)
            self._complete()
            return
        if key == "question_mark" and not self.text:
            self._stop(event)
            self.post_message(self.HelpRequested())
            return
        if key == "up" and row == 0:
            self._browse(self.sent.previous(self.text), event)
            return
        if key == "down" and row == self.document.line_count - 1:
            self._browse(self.sent.next(), event)
            return
        await super()._on_key(event)

    @staticmethod
    def _stop(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def _browse(self, text: str | None, event: events.Key) -> None:
        if text is None:
            return
        self._stop(event)
        self.load_text(text)
        self.move_cursor(self.document.end)

    def _submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        self.sent.add(text)
        self.load_text("")
        self.post_message(self.Completions([]))
        self.post_message(self.Submitted(text))

    def _complete(self) -> None:
        row, column = self.cursor_location
        line = self.document[row]
        prefix = mention_at(line, column)
        if prefix is None:
            self.post_message(self.Completions([]))
            return
        completed, candidates = complete(prefix, self.files)
        if completed != prefix:
            self.replace(completed, (row, column - len(prefix)), (row, column))
        if len(candidates) == 1 and completed == candidates[0]:
            self.insert(" ")
            candidates = []
        self.post_message(self.Completions(candidates))
