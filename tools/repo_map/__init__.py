"""The repo map: tree-sitter tags of every source file, ranked by personalised PageRank, cut to a token budget.

Pipeline (one module each): `files` lists what git would track, `tags` extracts definitions and references
(`languages` holds the grammars and queries, `cache` keeps tags by mtime and size), `rank` orders the
definitions, `render` prints them within the budget, `mapper` runs it all, `tool` is the model-facing tool.
"""

from .mapper import DEFAULT_CACHE_DIR, Focus, RepoMap, RepoMapConfig, RepoMapper, build_repo_map
from .rank import RankConfig
from .render import estimate_tokens
from .tool import REPO_MAP

__all__ = [
    "DEFAULT_CACHE_DIR",
    "REPO_MAP",
    "Focus",
    "RankConfig",
    "RepoMap",
    "RepoMapConfig",
    "RepoMapper",
    "build_repo_map",
    "estimate_tokens",
]
