"""The repo map pipeline: list files → tags (cached by mtime and size) → rank → fit to the token budget."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mimo_agent.tools.paths import Workspace

from .cache import TagCache
from .files import SourceFile, list_source_files
from .rank import RankConfig, rank_definitions
from .render import MapRenderer, TokenCounter, estimate_tokens
from .tags import FileTags, extract_tags

DEFAULT_CACHE_DIR = ".mimo-agent/cache"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FOCUS_TRIM = "`'\"()[]{}<>,;:!?"


@dataclass(frozen=True)
class RepoMapConfig:
    """What the map covers; ranking weights live in `rank`."""

    max_file_bytes: int = 1_000_000  # larger files (generated or vendored code, mostly) are left out
    min_stem_chars: int = 5  # a mentioned identifier this long that equals a file's stem favours that file
    rank: RankConfig = field(default_factory=RankConfig)

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "min_stem_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"RepoMapConfig.{name} must be >= 1, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Focus:
    """What the caller pointed at: files (and folders, expanded), identifiers, and paths that matched nothing."""

    files: frozenset[str] = frozenset()
    identifiers: frozenset[str] = frozenset()
    unknown_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepoMap:
    """A rendered map and how it was made (for the tool's metadata, tests and the benchmark)."""

    text: str
    files: int
    parsed: int
    cached: int
    definitions_shown: int
    focus: Focus
    seconds: float


class RepoMapper:
    """Builds maps of one workspace, keeping parsed tags in memory (and on disk) between calls."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
        config: RepoMapConfig | None = None,
    ) -> None:
        """`cache_dir` is relative to `root` unless absolute; None keeps the cache in memory only."""
        self.workspace = Workspace(root)
        self.config = config or RepoMapConfig()
        self.cache = TagCache(None if cache_dir is None else self.workspace.root / cache_dir)
        self._last: tuple[tuple[tuple[SourceFile, ...], Focus], MapRenderer] | None = (
            None  # the latest ranking
        )

    def build(
        self,
        focus: str | Sequence[str] | None = None,
        max_tokens: int = 1024,
        count_tokens: TokenCounter = estimate_tokens,
    ) -> RepoMap:
        """The map of the best-ranked definitions that fits `max_tokens` as measured by `count_tokens`.

        Raises PathEscapeError for a focus path outside the workspace, ValueError for `max_tokens` < 1.
        """
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        start = time.perf_counter()
        files = list_source_files(self.workspace.root, self.config.max_file_bytes)
        resolved = self.resolve_focus(focus, [f.rel for f in files])
        state = (tuple(files), resolved)
        if self._last is not None and self._last[0] == state:  # nothing changed: reuse the ranking
            renderer, parsed = self._last[1], 0
        else:
            renderer, parsed = self._rank(files, resolved)
            self._last = (state, renderer)
        text, shown = renderer.fit(max_tokens, count_tokens)
        return RepoMap(
            text=text,
            files=len(files),
            parsed=parsed,
            cached=len(files) - parsed,
            definitions_shown=shown,
            focus=resolved,
            seconds=time.perf_counter() - start,
        )

    def resolve_focus(self, focus: str | Sequence[str] | None, known: Sequence[str]) -> Focus:
        """Split the focus into workspace files and identifiers.

        A string is split on whitespace; each item that names an existing path (or contains a slash) is a
        path and must stay inside the workspace. Every item also contributes the identifiers it contains,
        so `models.User.save` mentions `User` and `save`.
        """
        if focus is None:
            return Focus()
        items = focus.split() if isinstance(focus, str) else list(focus)
        known_set = set(known)
        files: set[str] = set()
        identifiers: set[str] = set()
        unknown: list[str] = []
        for raw in items:
            item = raw.strip(FOCUS_TRIM)
            if item.endswith(".") and item.strip("./"):  # a full stop ending a sentence, not "." or ".."
                item = item.rstrip(".")
            if not item:
                continue
            identifiers.update(IDENTIFIER.findall(item))
            candidate = Path(item) if os.path.isabs(item) else self.workspace.root / item
            if "/" not in item and "\\" not in item and not os.path.exists(candidate):
                continue  # a plain word; os.path.exists is False (never raises) for odd names
            real = self.workspace.resolve(item)
            rel = self.workspace.relative(real)
            if rel in known_set:
                files.add(rel)
            elif os.path.isdir(real):
                prefix = "" if rel == "." else rel + "/"
                files.update(name for name in known if name.startswith(prefix))
            else:
                unknown.append(item)
        return Focus(frozenset(files), frozenset(identifiers), tuple(unknown))

    def _rank(self, files: Sequence[SourceFile], focus: Focus) -> tuple[MapRenderer, int]:
        """A renderer over the ranked definitions, and how many files had to be parsed for it."""
        tags_by_file, parsed = self._tags(files)
        stems = {f.rel: os.path.splitext(os.path.basename(f.rel))[0] for f in files}
        mentioned_files = {
            rel
            for rel, stem in stems.items()
            if stem in focus.identifiers and len(stem) >= self.config.min_stem_chars
        }
        ranked = rank_definitions(
            tags_by_file, focus.files, focus.identifiers, self.config.rank, mentioned_files=mentioned_files
        )
        renderer = MapRenderer(
            ranked, {file: tags.definitions + tags.scopes for file, tags in tags_by_file.items()}
        )
        return renderer, parsed

    def _tags(self, files: Sequence[SourceFile]) -> tuple[dict[str, FileTags], int]:
        """Tags of every file (cache first, then parsing) and how many files had to be parsed."""
        tags_by_file: dict[str, FileTags] = {}
        misses: list[SourceFile] = []
        for file in files:
            tags = self.cache.get(file)
            if tags is None:
                misses.append(file)
            else:
                tags_by_file[file.rel] = tags
        fresh = [_parse_file(self.workspace.root, file) for file in misses]
        self.cache.retain({file.rel for file in files})
        self.cache.put(zip(misses, fresh, strict=True))
        tags_by_file.update((file.rel, tags) for file, tags in zip(misses, fresh, strict=True))
        return tags_by_file, len(misses)


def _parse_file(root: Path, file: SourceFile) -> FileTags:
    """Tags of one file; a file that vanished or cannot be read since it was listed has none."""
    try:
        source = (root / file.rel).read_bytes()
    except OSError:
        return FileTags([], {}, [])
    return extract_tags(source, file.language, file.rel)


def build_repo_map(
    root: str | os.PathLike[str],
    focus: str | Sequence[str] | None = None,
    max_tokens: int = 1024,
    cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
    count_tokens: TokenCounter = estimate_tokens,
) -> str:
    """One-shot repo map text of `root` (see `RepoMapper.build`); the disk cache makes repeats fast."""
    return RepoMapper(root, cache_dir).build(focus, max_tokens, count_tokens).text
