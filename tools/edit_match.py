"""Find-and-replace for `edit`: an exact match first, then a cascade of tolerant matches, each still unique.

The cascade, loosest last: trailing whitespace ignored; indentation shifted consistently (the new text is
re-indented to the file's style, tabs included); lines compared trimmed with blank lines ignored; and the
same again after undoing over-escaped text (`\\n`, `\\t`, quotes). An ambiguous match stops the cascade: a
looser rule would only be more ambiguous. A failure names the closest real lines with whitespace visible.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

STRATEGIES = ("exact", "trailing whitespace", "indentation", "trimmed lines", "escape-normalised")
_ESCAPES = re.compile(r"\\(n|t|r|\"|'|\\)")
_UNESCAPED = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
_NEAREST_CANDIDATES = 20


class EditError(ValueError):
    """The edit cannot be applied; the message tells the model why and what the file really contains."""


@dataclass(frozen=True)
class Replacement:
    text: str  # the whole new file text
    strategy: str
    count: int  # places replaced
    line: int  # 1-based line of the first replacement


@dataclass(frozen=True)
class _Match:
    start: int  # first file line index
    stop: int  # one past the last file line index
    pairs: tuple[tuple[str, str], ...]  # (old line, file line) for each non-blank old line


def replace(text: str, old: str, new: str, replace_all: bool = False) -> Replacement:
    """Apply one edit to `text`; raises EditError with a precise explanation."""
    if old == "":
        raise EditError(
            "old_string is empty; give the exact text to replace (use write_file for a new file)."
        )
    if old == new:
        raise EditError("old_string and new_string are identical; there is nothing to change.")
    found = _try_all(text, old, new, replace_all)
    if found is not None:
        return found
    unescaped_old = _ESCAPES.sub(lambda m: _UNESCAPED[m.group(1)], old)
    if unescaped_old != old:
        unescaped_new = _ESCAPES.sub(lambda m: _UNESCAPED[m.group(1)], new)
        found = _try_all(text, unescaped_old, unescaped_new, replace_all)
        if found is not None:
            return Replacement(found.text, f"escape-normalised, {found.strategy}", found.count, found.line)
    raise EditError(_not_found_message(text, old, new))


def _try_all(text: str, old: str, new: str, replace_all: bool) -> Replacement | None:
    count = text.count(old)
    if count == 1 or (count > 1 and replace_all):
        line = text[: text.index(old)].count("\n") + 1
        return Replacement(text.replace(old, new), "exact", count, line)
    if count > 1:
        lines = _occurrence_lines(text, old)
        raise EditError(
            f"old_string occurs {count} times (at lines {', '.join(map(str, lines[:10]))}); include more "
            "surrounding lines to make it unique, or set replace_all=true to change every occurrence."
        )
    file_lines = text.split("\n")
    old_lines = _drop_final_newline(old.split("\n"))
    new_lines = _drop_final_newline(new.split("\n"))
    for strategy, finder in _LINE_STRATEGIES:
        matches = finder(file_lines, old_lines)
        if len(matches) > 1:
            where = ", ".join(str(m.start + 1) for m in matches[:10])
            raise EditError(
                f"old_string does not match exactly; ignoring {strategy} it matches {len(matches)} places "
                f"(starting at lines {where}). Copy the exact text from read_file, with more context lines."
            )
        if matches:
            match = matches[0]
            replacement = (
                new_lines if strategy == "trailing whitespace" else _reindent(new_lines, match.pairs)
            )
            if all(line.endswith("\r") for line in file_lines[match.start : match.stop]):
                replacement = [line if line.endswith("\r") else line + "\r" for line in replacement]
            result = file_lines[: match.start] + replacement + file_lines[match.stop :]
            return Replacement("\n".join(result), strategy, 1, match.start + 1)
    return None


def _drop_final_newline(lines: list[str]) -> list[str]:
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def _occurrence_lines(text: str, old: str) -> list[int]:
    lines, start = [], text.find(old)
    while start != -1:
        lines.append(text.count("\n", 0, start) + 1)
        start = text.find(old, start + 1)
    return lines


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _windows(file_lines: list[str], old_lines: list[str], norm: Callable[[str], str]) -> list[_Match]:
    k = len(old_lines)
    wanted = [norm(line) for line in old_lines]
    normed = [norm(line) for line in file_lines]
    matches = []
    for i in range(len(file_lines) - k + 1):
        if normed[i : i + k] == wanted:
            pairs = tuple((o, f) for o, f in zip(old_lines, file_lines[i : i + k], strict=False) if o.strip())
            matches.append(_Match(i, i + k, pairs))
    return matches


def _find_trailing(file_lines: list[str], old_lines: list[str]) -> list[_Match]:
    return _windows(file_lines, old_lines, str.rstrip)


def _find_indentation(file_lines: list[str], old_lines: list[str]) -> list[_Match]:
    def consistent(match: _Match) -> bool:
        mapping: dict[str, str] = {}
        return all(mapping.setdefault(_indent(o), _indent(f)) == _indent(f) for o, f in match.pairs)

    return [m for m in _windows(file_lines, old_lines, str.strip) if consistent(m)]


def _find_trimmed(file_lines: list[str], old_lines: list[str]) -> list[_Match]:
    """Stripped lines, blank lines ignored on both sides; the match spans the file lines in between."""
    wanted = [line.strip() for line in old_lines if line.strip()]
    if not wanted:
        return []
    kept = [(i, line.strip()) for i, line in enumerate(file_lines) if line.strip()]
    k = len(wanted)
    matches = []
    for j in range(len(kept) - k + 1):
        if [s for _, s in kept[j : j + k]] == wanted:
            start, last = kept[j][0], kept[j + k - 1][0]
            olds = [line for line in old_lines if line.strip()]
            pairs = tuple(zip(olds, (file_lines[i] for i, _ in kept[j : j + k]), strict=False))
            matches.append(_Match(start, last + 1, pairs))
    return matches


_LINE_STRATEGIES: tuple[tuple[str, Callable[[list[str], list[str]], list[_Match]]], ...] = (
    ("trailing whitespace", _find_trailing),
    ("indentation", _find_indentation),
    ("trimmed lines", _find_trimmed),
)


def _reindent(new_lines: list[str], pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """Move the new lines into the file's indentation, mapping each old indent to the file's indent."""
    mapping: dict[str, str] = {}
    for old, actual in pairs:
        mapping.setdefault(_indent(old), _indent(actual))
    if not mapping:
        return new_lines
    uses_tabs = any("\t" in value for value in mapping.values())
    old_widths = sorted({len(key) for key in mapping if key and "\t" not in key})
    unit = min(
        (b - a for a, b in zip(old_widths, old_widths[1:], strict=False)),
        default=old_widths[0] if old_widths else 4,
    )

    def convert(extra: str) -> str:
        if uses_tabs and unit > 0:
            return extra.replace(" " * unit, "\t")
        return extra.replace("\t", " " * max(unit, 1))

    out = []
    for line in new_lines:
        if not line.strip():
            out.append(line.strip(" \t"))
            continue
        indent = _indent(line)
        prefixes = [key for key in mapping if indent.startswith(key)]
        if prefixes:
            key = max(prefixes, key=len)
            out.append(mapping[key] + convert(indent[len(key) :]) + line[len(indent) :])
        else:
            out.append(line)
    return out


def visible(line: str) -> str:
    """A line with its whitespace drawn: · space, → tab, ␍ carriage return, ¶ end of line."""
    return line.replace(" ", "·").replace("\t", "→").replace("\r", "␍") + "¶"


def nearest_lines(file_lines: list[str], old_lines: list[str]) -> tuple[int, float]:
    """(start index, similarity) of the file window most like `old_lines`."""
    k = max(1, len(old_lines))
    if len(file_lines) <= k:
        target, window = "\n".join(old_lines), "\n".join(file_lines)
        return 0, difflib.SequenceMatcher(None, target, window).ratio()
    anchor = next((line.strip() for line in old_lines if line.strip()), "")
    offset = next((i for i, line in enumerate(old_lines) if line.strip()), 0)
    scorer = difflib.SequenceMatcher(None, b=anchor)
    scored = []
    for i, line in enumerate(file_lines):
        scorer.set_seq1(line.strip())
        scored.append((scorer.quick_ratio(), i))
    starts = {
        max(0, min(i - offset, len(file_lines) - k))
        for _, i in sorted(scored, reverse=True)[:_NEAREST_CANDIDATES]
    }
    target = "\n".join(line.strip() for line in old_lines)
    best = (0, -1.0)
    for start in sorted(starts):
        window = "\n".join(line.strip() for line in file_lines[start : start + k])
        ratio = difflib.SequenceMatcher(None, target, window).ratio()
        if ratio > best[1]:
            best = (start, ratio)
    return best


def _not_found_message(text: str, old: str, new: str) -> str:
    file_lines = text.split("\n")
    old_lines = _drop_final_newline(old.split("\n"))
    out = [f"old_string was not found (tried: {', '.join(STRATEGIES)})."]
    if new and new in text:
        out.append("Note: new_string is already in the file; this edit may have been applied already.")
    start, ratio = nearest_lines(file_lines, old_lines)
    if ratio > 0:
        stop = min(len(file_lines), start + len(old_lines))
        out.append(
            f"Closest lines in the file ({start + 1}-{stop}, {ratio:.0%} similar); whitespace shown as "
            "· space, → tab, ␍ CR, ¶ end of line:"
        )
        out += [f"{n + 1:>6} | {visible(file_lines[n])}" for n in range(start, stop)]
    out.append("Your old_string:")
    out += [f"       | {visible(line)}" for line in old_lines[:40]]
    out.append("Read the file again and copy the lines exactly.")
    return "\n".join(out)
