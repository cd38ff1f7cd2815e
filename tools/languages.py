"""Tree-sitter grammars by file name, from the per-language PyPI wheels (`tree-sitter-python`, …).

Those wheels ship compiled parsers, so nothing is fetched at run time. (tree-sitter-language-pack 1.x
downloads its parsers from the network on first use, which an offline sandbox cannot do, so it is not
used.) The syntax check and the repo map both load grammars here.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

from tree_sitter import Language, Parser

# Language name -> (module, function returning the grammar pointer) of its grammar wheel.
GRAMMAR_MODULES: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
}


class GrammarMissingError(RuntimeError):
    """A grammar wheel is not installed (or the language is unknown); the message names the pip package."""


def language_for_path(path: str) -> str | None:
    """The language name for a file path, or None when no grammar handles its extension."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


@cache
def load_language(name: str) -> Language:
    if name not in GRAMMAR_MODULES:
        raise GrammarMissingError(
            f"no tree-sitter grammar for {name!r} (known: {', '.join(GRAMMAR_MODULES)})"
        )
    module_name, function = GRAMMAR_MODULES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = module_name.replace("_", "-")
        raise GrammarMissingError(
            f"the tree-sitter grammar package {package!r} is missing: pip install {package}"
        ) from exc
    return Language(getattr(module, function)())


def get_language(name: str) -> Language | None:
    """The grammar for `name`, or None when it is not available (the syntax check then skips the file)."""
    try:
        return load_language(name)
    except GrammarMissingError:
        return None


def get_parser(name: str) -> Parser | None:
    language = get_language(name)
    return None if language is None else Parser(language)
