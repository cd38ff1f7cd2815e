"""Unified diffs as data: a lenient parser and a pure applier that says which hunk failed and why.

Models get hunk line counts wrong and lose the space of blank context lines, so the parser trusts the
lines, not the counts. A hunk is placed at its stated line (shifted by earlier hunks), else at the nearest
exact match, else at the nearest match ignoring trailing whitespace; anything else fails the whole patch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mimo_agent.tools.edit_match import nearest_lines, visible

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FENCE = re.compile(r"^```[\w-]*\s*$")


class PatchError(ValueError):
    """The patch is malformed or does not apply; the message names the file and hunk."""


@dataclass
class Hunk:
    header: str
    old_start: int | None  # None for a bare `@@` header: placed by its context after the previous hunk
    lines: list[tuple[str, str]] = field(default_factory=list)  # (' ' | '-' | '+', text)
    old_no_eol: bool = False  # "\ No newline at end of file" after an old-side line
    new_no_eol: bool = False

    @property
    def old_block(self) -> list[str]:
        return [text for kind, text in self.lines if kind != "+"]

    @property
    def new_block(self) -> list[str]:
        return [text for kind, text in self.lines if kind != "-"]


@dataclass
class FilePatch:
    old_path: str | None  # None for a created file
    new_path: str | None  # None for a deleted file
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def _clean_path(raw: str) -> str | None:
    path = raw.split("\t")[0].strip()
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    return None if path == "/dev/null" else path


def _strip_prefixes(patch: FilePatch) -> None:
    """Drop git's a/ and b/ prefixes when both sides (or the one present) carry them."""
    sides = [p for p in (patch.old_path, patch.new_path) if p is not None]
    old_ok = patch.old_path is None or patch.old_path.startswith("a/")
    new_ok = patch.new_path is None or patch.new_path.startswith("b/")
    if sides and old_ok and new_ok:
        patch.old_path = patch.old_path[2:] if patch.old_path else None
        patch.new_path = patch.new_path[2:] if patch.new_path else None


def parse_patch(text: str) -> list[FilePatch]:
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if not _FENCE.match(line)]
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    awaiting_names = False  # a `diff --git` line was seen and its ---/+++ lines may follow
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            match = re.match(r"diff --git (\S+) (\S+)$", line)
            names = match.groups() if match else (None, None)
            current = FilePatch(*(_clean_path(name) if name else None for name in names))
            patches.append(current)
            awaiting_names = True
        elif (
            current is not None and awaiting_names and line.startswith(("new file mode", "deleted file mode"))
        ):
            if line.startswith("new"):
                current.old_path = None
            else:
                current.new_path = None
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _clean_path(line[4:]), _clean_path(lines[i + 1][4:])
            if current is not None and awaiting_names:
                current.old_path, current.new_path = old, new
            else:
                current = FilePatch(old, new)
                patches.append(current)
            awaiting_names = False
            i += 1
        elif line.startswith("@@"):
            if current is None:
                raise PatchError(
                    f"line {i + 1}: hunk header {line!r} before any '--- a/file' / '+++ b/file' lines"
                )
            awaiting_names = False
            i = _parse_hunk(lines, i, current)
            continue
        i += 1
    if not patches:
        raise PatchError(
            "no file changes found; expected a unified diff with '--- a/path', '+++ b/path' and @@ hunks"
        )
    for patch in patches:
        _strip_prefixes(patch)
        if patch.old_path is None and patch.new_path is None:
            raise PatchError("a file section names no path (both sides /dev/null)")
    return patches


def _parse_hunk(lines: list[str], i: int, patch: FilePatch) -> int:
    header = lines[i]
    match = _HUNK_HEADER.match(header)
    if not match and re.match(r"@@ [-+]\d", header):
        raise PatchError(
            f"{patch.path}: malformed hunk header {header!r}; expected '@@ -start,count +start,count @@'"
        )
    hunk = Hunk(header=header, old_start=int(match.group(1)) if match else None)
    i += 1
    trailing_empty = 0  # empty lines (not " ") at the end are separators, not blank context lines
    while i < len(lines):
        line = lines[i]
        if line.startswith(("@@", "diff --git ")) or (
            line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
        ):
            break
        if line.startswith("\\"):
            if hunk.lines and hunk.lines[-1][0] in " -":
                hunk.old_no_eol = True
            if hunk.lines and hunk.lines[-1][0] in " +":
                hunk.new_no_eol = True
        elif line == "":
            hunk.lines.append((" ", ""))
        elif line[0] in " -+":
            hunk.lines.append((line[0], line[1:]))
        else:
            break
        trailing_empty = trailing_empty + 1 if line == "" else 0
        i += 1
    if trailing_empty:
        del hunk.lines[-trailing_empty:]
    if not any(kind != " " for kind, _ in hunk.lines):
        raise PatchError(f"{patch.path}: hunk {header!r} changes nothing (no '+' or '-' lines)")
    patch.hunks.append(hunk)
    return i


def apply_hunks(text: str | None, patch: FilePatch) -> tuple[str, list[str]]:
    """New file text (text None for a new file) and remarks about hunks placed away from their stated line."""
    original = text or ""
    lines = original.split("\n")
    final_newline = original.endswith("\n") or original == ""
    if original.endswith("\n") or original == "":
        lines.pop()
    remarks: list[str] = []
    offset = 0
    floor = 0
    for number, hunk in enumerate(patch.hunks, start=1):
        old_block, new_block = hunk.old_block, hunk.new_block
        if hunk.old_start is None:
            expected = floor
        elif old_block:
            expected = max(0, hunk.old_start - 1 + offset)
        else:
            expected = max(0, hunk.old_start + offset)
        at = _locate(lines, old_block, expected, floor)
        if at is None:
            raise PatchError(_hunk_failure(patch, number, hunk, lines))
        if at != expected and old_block and hunk.old_start is not None:
            remarks.append(f"{patch.path}: hunk {number} applied at line {at + 1} (stated {hunk.old_start})")
        lines[at : at + len(old_block)] = new_block
        offset += len(new_block) - len(old_block) + (at - expected)
        floor = at + len(new_block)
        if at + len(new_block) == len(lines):
            if hunk.new_no_eol:
                final_newline = False
            elif hunk.old_no_eol:
                final_newline = True
    if not lines:
        return "", remarks
    return "\n".join(lines) + ("\n" if final_newline else ""), remarks


def _locate(lines: list[str], block: list[str], expected: int, floor: int) -> int | None:
    if not block:
        return min(max(expected, floor), len(lines))
    for norm in (lambda s: s, str.rstrip):
        wanted = [norm(s) for s in block]
        k = len(block)
        for distance in range(len(lines) + 1):
            for at in {expected - distance, expected + distance}:
                if floor <= at <= len(lines) - k and [norm(s) for s in lines[at : at + k]] == wanted:
                    return at
    return None


def _hunk_failure(patch: FilePatch, number: int, hunk: Hunk, lines: list[str]) -> str:
    out = [
        f"{patch.path}: hunk {number} of {len(patch.hunks)} ({hunk.header}) does not apply: its context and "
        "'-' lines are not in the file (after the earlier hunks)."
    ]
    start, ratio = nearest_lines(lines, hunk.old_block)
    if lines and ratio > 0:
        stop = min(len(lines), start + len(hunk.old_block))
        out.append(f"Closest lines in the file ({start + 1}-{stop}); · space, → tab, ¶ end of line:")
        out += [f"{n + 1:>6} | {visible(lines[n])}" for n in range(start, stop)]
    out.append("The hunk expects:")
    out += [f"       | {visible(line)}" for line in hunk.old_block[:40]]
    return "\n".join(out)
