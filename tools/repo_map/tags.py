"""Definition and reference tags of one source file, from its language's tree-sitter tag query.

Each query pattern captures an identifier as `@definition.<category>` or `@reference.<category>`; the
identifier's parent node is the construct a definition spans. A `@scope` capture (a Rust `impl` block) is a
construct whose first line is shown above the definitions inside it but is not ranked itself. A name
captured as a definition is never also counted as a reference (patterns such as "every type identifier"
would otherwise make each file reference its own definitions).

References keep only their names and counts: ranking needs no more and the map never shows them, and a
repository has several times more references than definitions, so this keeps the cache small and fast.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from tree_sitter import QueryCursor

from mimo_agent.tools.textfile import looks_binary

from .languages import grammar

MAX_LINE_CHARS = 200


class Tag(NamedTuple):
    """A definition: `line` holds the name (1-based), `end_line` ends the construct, `text` is that line."""

    file: str
    name: str
    category: str  # the query's label: function, class, method, type, constant, …
    line: int
    end_line: int
    text: str


class FileTags(NamedTuple):
    """What one file defines (in line order), how often it references each name (in order of first use),
    and its scopes (line order; name empty, category "scope")."""

    definitions: list[Tag]
    references: dict[str, int]
    scopes: list[Tag]


def extract_tags(source: bytes, language: str, file: str) -> FileTags:
    """The tags of `source`, parsed as `language`; `file` is the path recorded in each definition."""
    if looks_binary(source):
        return FileTags([], {}, [])
    g = grammar(language)
    tree = g.parser().parse(source)
    captures = QueryCursor(g.query).captures(tree.root_node)
    definitions: dict[int, Tag] = {}
    lines: list[bytes] | None = None
    references: dict[int, str] = {}
    scopes: list[Tag] = []
    for role, nodes in captures.items():
        kind, _, category = role.partition(".")
        if kind in ("definition", "scope"):
            if lines is None:
                lines = source.split(b"\n")
            for node in nodes:
                line = node.start_point.row + 1
                text = lines[line - 1].decode("utf-8", errors="replace").rstrip()[:MAX_LINE_CHARS]
                if kind == "scope":
                    scopes.append(Tag(file, "", "scope", line, node.end_point.row + 1, text))
                    continue
                span = node.parent or node
                name = source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")
                tag = Tag(file, name, category, line, span.end_point.row + 1, text)
                definitions.setdefault(node.start_byte, tag)
        else:
            for node in nodes:
                start = node.start_byte
                references[start] = source[start : node.end_byte].decode("utf-8", errors="replace")
    counts = Counter(references[start] for start in sorted(references) if start not in definitions)
    return FileTags(
        sorted(definitions.values(), key=lambda t: t.line), dict(counts), sorted(scopes, key=lambda t: t.line)
    )
