"""Render ranked definitions as text, and find how many of them fit a token budget.

A file block is its path, then the chosen definition lines numbered as in the file, each preceded by the
headers of the definitions around it (a method under its class), with `⋮` wherever lines are left out:

    src/models.py:
    ⋮
     3│class User(Base):
    ⋮
     9│    def save(self, db: Database) -> None:
    ⋮
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from .tags import Tag

ELISION = "⋮"
MAX_SHOWN_CHARS = 120

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """About four characters a token: close enough for code when no tokenizer is at hand."""
    return math.ceil(len(text) / 4)


class MapRenderer:
    """Renders prefixes of one ranking; remembers each definition's enclosing headers between calls."""

    def __init__(self, ranked: Sequence[Tag], headers_by_file: Mapping[str, Sequence[Tag]]) -> None:
        """`headers_by_file`: every definition and scope of each file, to find what encloses a definition."""
        self.ranked = ranked
        self._headers_by_file = headers_by_file
        self._headers: dict[str, dict[int, list[Tag]]] = {}

    def render(self, count: int) -> str:
        """The map of the `count` best definitions; files appear in the order of their best definition."""
        chosen: dict[str, dict[int, Tag]] = {}
        for tag in self.ranked[:count]:
            lines = chosen.setdefault(tag.file, {})
            lines.setdefault(tag.line, tag)
            for header in self._enclosing(tag):
                lines.setdefault(header.line, header)
        return "".join(_file_block(file, lines) for file, lines in chosen.items())

    def fit(self, max_tokens: int, count_tokens: TokenCounter = estimate_tokens) -> tuple[str, int]:
        """The map of the longest prefix of the ranking within `max_tokens`, and that prefix's length.

        Rendering grows with the prefix, so: double until over budget, then bisect between.
        """
        best, low, high = "", 0, 1
        while high <= len(self.ranked):
            text = self.render(high)
            if count_tokens(text) > max_tokens:
                break
            best, low, high = text, high, high * 2
        else:
            if low == len(self.ranked):
                return best, low
            high = len(self.ranked) + 1
        while high - low > 1:  # invariant: prefix `low` fits, prefix `high` does not (or is past the end)
            middle = (low + high) // 2
            text = self.render(middle)
            if count_tokens(text) <= max_tokens:
                best, low = text, middle
            else:
                high = middle
        return best, low

    def _enclosing(self, tag: Tag) -> list[Tag]:
        headers = self._headers.get(tag.file)
        if headers is None:
            headers = self._headers[tag.file] = _enclosing_headers(self._headers_by_file.get(tag.file, ()))
        return headers.get(tag.line, [])


def _enclosing_headers(candidates: Sequence[Tag]) -> dict[int, list[Tag]]:
    """For each definition line, the definitions and scopes whose span strictly contains it (outermost first)."""
    ordered = sorted(candidates, key=lambda t: (t.line, -t.end_line))
    headers: dict[int, list[Tag]] = {}
    open_scopes: list[Tag] = []
    for tag in ordered:
        while open_scopes and open_scopes[-1].end_line < tag.line:
            open_scopes.pop()
        headers.setdefault(tag.line, [scope for scope in open_scopes if scope.line < tag.line])
        if tag.end_line > tag.line:
            open_scopes.append(tag)
    return headers


def _file_block(file: str, lines: dict[int, Tag]) -> str:
    numbers = sorted(lines)
    width = len(str(numbers[-1]))
    out = [f"{file}:\n"]
    previous = 0
    for number in numbers:
        if number > previous + 1:
            out.append(f"{ELISION}\n")
        text = lines[number].text
        if len(text) > MAX_SHOWN_CHARS:
            text = text[: MAX_SHOWN_CHARS - 1] + "…"
        out.append(f"{number:>{width}}│{text}\n")
        previous = number
    if max(tag.end_line for tag in lines.values()) > previous:
        out.append(f"{ELISION}\n")
    return "".join(out)
