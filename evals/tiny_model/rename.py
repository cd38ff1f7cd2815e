"""Identifier renaming: the same trajectory with the repository's own names (packages, modules, classes,
functions) replaced by fresh made-up ones, consistently across the whole conversation.

A small model trained on a few program templates learns their names by heart and then writes them into
repositories that have others. With the names drawn anew for every sample, the only way to predict a
name is to copy it from the context (the issue, a grep hit, a file read), which is what solving an
unseen repository needs. Names the prompt itself uses (tool and parameter names), Python's keywords and
builtins, and test names are kept.
"""

from __future__ import annotations

import builtins
import keyword
import random
import re
from collections.abc import Sequence

_DEFINED = re.compile(r"\b(?:def|class)\s+([A-Za-z_]\w*)")
_MODULE_PATH = re.compile(r"\b([a-z_][a-z0-9_]*)/([a-z_][a-z0-9_]*)\.py\b")
_IMPORT = re.compile(r"\bfrom\s+([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\s+import\b")
_WORD = re.compile(r"[A-Za-z_]\w*")
_KEEP = (
    frozenset(keyword.kwlist)
    | frozenset(dir(builtins))
    | {"self", "cls", "tests", "test", "conftest", "pytest"}
)
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def kept_words(texts: Sequence[str]) -> frozenset[str]:
    """Words never renamed: those of `texts` (the tool definitions) plus keywords, builtins and test names."""
    return frozenset(word for text in texts for word in _WORD.findall(text)) | _KEEP


def candidate_names(text: str, keep: frozenset[str]) -> list[str]:
    """Names the repository defines or lays out as packages and modules, in first-seen order."""
    found: dict[str, None] = {}
    for pattern in (_MODULE_PATH, _IMPORT, _DEFINED):
        for match in pattern.finditer(text):
            for name in match.groups():
                found.setdefault(name, None)
    return [
        name for name in found if name not in keep and not name.startswith(("test", "_")) and len(name) > 2
    ]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3)))


def fresh_name(name: str, rng: random.Random, taken: set[str]) -> str:
    """A made-up name in the same style: snake_case words for snake_case, CapWords for CapWords."""
    capitals = len(re.findall(r"[A-Z]", name))
    parts = max(1, min(3, capitals if name[:1].isupper() else name.count("_") + 1))
    while True:
        words = [_word(rng) for _ in range(parts)]
        candidate = "".join(w.capitalize() for w in words) if name[:1].isupper() else "_".join(words)
        if candidate not in taken and candidate not in _KEEP:
            taken.add(candidate)
            return candidate


def rename(
    text: str, spans: Sequence[Sequence[int]], keep: frozenset[str], rng: random.Random
) -> tuple[str, list[list[int]]]:
    """`text` with the repository's names replaced, and the assistant `spans` moved to match."""
    names = candidate_names(text, keep)
    if not names:
        return text, [list(span) for span in spans]
    taken = set(_WORD.findall(text))
    mapping = {name: fresh_name(name, rng, taken) for name in names}
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(mapping, key=len, reverse=True)) + r")\b"
    )
    pieces, new_spans, cursor, length = [], [], 0, 0
    for start, end in [*spans, (len(text), len(text))]:
        before = pattern.sub(lambda m: mapping[m.group(1)], text[cursor:start])
        inside = pattern.sub(lambda m: mapping[m.group(1)], text[start:end])
        pieces += [before, inside]
        length += len(before)
        if end > start:
            new_spans.append([length, length + len(inside)])
        length += len(inside)
        cursor = end
    return "".join(pieces), new_spans
