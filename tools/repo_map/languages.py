"""Which grammar and tag query parse a file, chosen by its extension.

Grammars come from `mimo_agent.tools.languages` (the per-language wheels); the tag queries are ours, one
`.scm` file per language in `queries/`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from tree_sitter import Language, Parser, Query

from mimo_agent.tools.languages import (
    EXTENSIONS,
    GRAMMAR_MODULES,
    GrammarMissingError,
    language_for_path,
    load_language,
)

__all__ = ["EXTENSIONS", "Grammar", "GrammarMissingError", "fingerprint", "grammar", "language_for"]

_QUERY_DIR = Path(__file__).with_name("queries")
QUERY_STEMS = {name: ("typescript" if name == "tsx" else name) for name in GRAMMAR_MODULES}
language_for = language_for_path


@dataclass(frozen=True)
class Grammar:
    """A loaded grammar with its compiled tag query; build one per language and reuse it."""

    name: str
    language: Language
    query: Query

    def parser(self) -> Parser:
        return Parser(self.language)


@cache
def grammar(name: str) -> Grammar:
    """Load the grammar and compile the tag query for a language name (one of `EXTENSIONS`' values)."""
    language = load_language(name)
    return Grammar(name=name, language=language, query=Query(language, _query_text(QUERY_STEMS[name])))


@cache
def _query_text(stem: str) -> str:
    return (_QUERY_DIR / f"{stem}-tags.scm").read_text(encoding="utf-8")


@cache
def fingerprint() -> str:
    """A digest of every query and grammar version: cached tags made under another one are stale."""
    digest = hashlib.sha256()
    for name, (module_name, _) in sorted(GRAMMAR_MODULES.items()):
        digest.update(QUERY_STEMS[name].encode())
        digest.update(_query_text(QUERY_STEMS[name]).encode())
        package = module_name.replace("_", "-")
        try:
            digest.update(metadata.version(package).encode())
        except metadata.PackageNotFoundError as exc:
            raise GrammarMissingError(
                f"the tree-sitter grammar package {package!r} is missing: pip install {package}"
            ) from exc
    return digest.hexdigest()[:16]
