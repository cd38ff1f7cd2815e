"""Keeping long outputs readable: the head and tail survive, the middle is replaced by a marker with counts."""

from __future__ import annotations

import os
from pathlib import Path


def cut_marker(amount: int, lines: int, unit: str = "characters", saved_as: str = "") -> str:
    where = f"; the full output is in {saved_as}: read it with read_file" if saved_as else ""
    return f"\n[... {amount:,} {unit} ({lines:,} lines) cut{where} ...]\n"


def head_tail(text: str, max_chars: int, saved_as: str = "") -> str:
    """`text` unchanged when it fits, else its first and last parts around a marker saying what was cut
    (and, given `saved_as`, where the whole text is)."""
    if len(text) <= max_chars:
        return text
    head = max_chars // 2
    tail = max_chars - head
    middle = text[head : len(text) - tail]
    return (
        text[:head]
        + cut_marker(len(middle), middle.count("\n"), saved_as=saved_as)
        + text[len(text) - tail :]
    )


def fits(path: Path, max_chars: int) -> bool:
    """Whether `head_tail_file` returns the file whole: its size is in bytes, the cap in characters, and
    a UTF-8 character takes one to four bytes."""
    size = path.stat().st_size
    if size <= max_chars or size > 4 * max_chars:
        return size <= max_chars
    return len(path.read_bytes().decode("utf-8", errors="replace")) <= max_chars


def head_tail_file(path: Path, max_chars: int, saved_as: str = "") -> str:
    """Like `head_tail` for a file that may be far larger than memory should hold; reads only both ends."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= max_chars * 4:
            return head_tail(fh.read().decode("utf-8", errors="replace"), max_chars, saved_as)
        head = fh.read(max_chars * 2).decode("utf-8", errors="replace")[: max_chars // 2]
        fh.seek(size - max_chars * 2, os.SEEK_SET)
        tail = fh.read().decode("utf-8", errors="replace")[-(max_chars - max_chars // 2) :]
        fh.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    cut_lines = max(0, lines - head.count("\n") - tail.count("\n"))
    cut = size - len(head.encode()) - len(tail.encode())
    return head + cut_marker(cut, cut_lines, "bytes", saved_as) + tail
