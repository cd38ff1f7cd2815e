"""Rank definitions by personalised PageRank over the file graph (Aider's repo-map algorithm).

Each file is a node. A file that references identifier X gets an edge to every file defining X, weighted
by how telling X is (mentioned in the focus, long and specific, private, defined nearly everywhere), by
sqrt(number of references) and by whether the referencing file is in the focus. Random jumps favour the
focus, so rank flows from it to its neighbours. A node's rank is then split over its out-edges, and each
edge credits (target file, X): that is the score of the definitions of X in the target file. A definition
nobody references gets a small share of its own file's rank, so it ranks below what others use; a name
defined in more than `max_defining_files` files is left out of the reference graph and treated the same way.

The graph is built with numpy (edges as arrays), as a repository has hundreds of thousands of references.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from .tags import FileTags, Tag


@dataclass(frozen=True, slots=True)
class RankConfig:
    """Weights of the file graph and PageRank settings; every value is checked when built."""

    mentioned_ident_weight: float = 10.0
    specific_ident_weight: float = 10.0
    specific_ident_min_chars: int = 8
    private_ident_weight: float = 0.1
    widely_defined_weight: float = 0.1
    widely_defined_min_files: int = 6
    max_defining_files: int = (
        100  # names defined more widely (`__init__`, `forward`) are left out of the graph
    )
    focus_referencer_weight: float = 50.0
    unreferenced_definition_weight: float = 0.1
    focus_jump_share: float = 0.95
    damping: float = 0.85
    tolerance: float = 1e-8
    max_iterations: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"RankConfig.{f.name} must be > 0, got {getattr(self, f.name)!r}")
        for name in ("focus_jump_share", "damping"):
            if getattr(self, name) >= 1:
                raise ValueError(f"RankConfig.{name} must be < 1, got {getattr(self, name)!r}")


def pagerank(
    n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, jump: np.ndarray, config: RankConfig
) -> np.ndarray:
    """Stationary distribution of a weighted random walk that jumps by `jump` (also from dangling nodes).

    Parallel edges add up. Power iteration until the L1 change drops under `tolerance`.
    """
    out_weight = np.bincount(src, weights=weight, minlength=n)
    share = weight / out_weight[src] if len(src) else weight
    dangling = np.bincount(src, minlength=n) == 0
    rank = jump.copy()
    for _ in range(config.max_iterations):
        flow = np.bincount(dst, weights=rank[src] * share, minlength=n)
        new = config.damping * (flow + rank[dangling].sum() * jump) + (1 - config.damping) * jump
        done = np.abs(new - rank).sum() < config.tolerance
        rank = new
        if done:
            break
    return rank


def is_specific(ident: str, min_chars: int) -> bool:
    """Long snake_case, kebab-case or camelCase names are rarely shared by accident."""
    if len(ident) < min_chars:
        return False
    return "_" in ident.strip("_") or "-" in ident or (ident.lower() != ident and ident.upper() != ident)


def ident_weight(ident: str, n_definers: int, mentioned: bool, config: RankConfig) -> float:
    """How much a reference to `ident` says about the relation of two files."""
    mul = 1.0
    if mentioned:
        mul *= config.mentioned_ident_weight
    if is_specific(ident, config.specific_ident_min_chars):
        mul *= config.specific_ident_weight
    if ident.startswith("_"):
        mul *= config.private_ident_weight
    if n_definers >= config.widely_defined_min_files:
        mul *= config.widely_defined_weight
    return mul


def rank_definitions(
    tags_by_file: Mapping[str, FileTags],
    focus_files: Collection[str] = (),
    mentioned_idents: Collection[str] = (),
    config: RankConfig | None = None,
    mentioned_files: Collection[str] = (),
) -> list[Tag]:
    """Every definition, best first (ties in path and line order).

    Focus files get random jumps and multiply the weight of their references; mentioned files (say, a
    file whose name the user wrote) only get random jumps.
    """
    config = config or RankConfig()
    files = sorted(tags_by_file)
    index = {file: i for i, file in enumerate(files)}
    focus = np.zeros(len(files), dtype=bool)
    focus[[index[f] for f in focus_files if f in index]] = True
    favoured = focus.copy()
    favoured[[index[f] for f in mentioned_files if f in index]] = True

    graph = _Graph.build([tags_by_file[file] for file in files], focus, set(mentioned_idents), config)
    rank = pagerank(len(files), graph.src, graph.dst, graph.weight, _jump_vector(favoured, config), config)
    score = graph.definition_scores(rank, config)
    # `definitions` is in (file, line) order, as the graph's, so a stable sort keeps ties that way.
    definitions = [tag for file in files for tag in tags_by_file[file].definitions]
    return [definitions[i] for i in np.argsort(-score, kind="stable").tolist()]


@dataclass(frozen=True)
class _Graph:
    """The reference graph as arrays. Files and identifiers are numbered; an (identifier, file) pair is
    packed into one integer `identifier * base + file`. Definition arrays follow (file, line) order."""

    base: int
    def_ident: np.ndarray  # per definition
    def_file: np.ndarray
    pair_ident: np.ndarray  # per unique (identifier, defining file), grouped by identifier
    pair_file: np.ndarray
    referenced: np.ndarray  # per identifier: has an edge
    src: np.ndarray  # per edge: referencing file -> defining file, for identifier `edge_ident`
    dst: np.ndarray
    edge_ident: np.ndarray
    weight: np.ndarray

    @classmethod
    def build(
        cls, tags: Sequence[FileTags], focus: np.ndarray, mentioned: set[str], config: RankConfig
    ) -> _Graph:
        n = len(tags)
        base = max(n, 1)
        def_names = [tag.name for file_tags in tags for tag in file_tags.definitions]
        ref_names = [name for file_tags in tags for name in file_tags.references]
        # Interning through dict.fromkeys and map keeps the per-name work in C: there are ~10^5 names.
        idents = {name: k for k, name in enumerate(dict.fromkeys(def_names + ref_names))}
        names = list(idents)
        def_ident = np.fromiter(map(idents.__getitem__, def_names), dtype=np.int64, count=len(def_names))
        def_file = np.repeat(np.arange(n, dtype=np.int64), [len(t.definitions) for t in tags])
        # One row per (referencing file, name): each file's references are already counted by name.
        r_ident = np.fromiter(map(idents.__getitem__, ref_names), dtype=np.int64, count=len(ref_names))
        r_file = np.repeat(np.arange(n, dtype=np.int64), [len(t.references) for t in tags])
        counts = np.fromiter(
            (c for t in tags for c in t.references.values()), dtype=np.float64, count=len(ref_names)
        )

        # Definers of identifier k: pair_file[start[k] : start[k] + n_definers[k]].
        pairs = np.unique(def_ident * base + def_file)
        pair_ident, pair_file = pairs // base, pairs % base
        n_definers = np.bincount(pair_ident, minlength=len(names))
        start = np.cumsum(n_definers) - n_definers

        # Leave out references to undefined names, and to names defined nearly everywhere (their edges would
        # number definers x referencers, millions in a large repository, and say nothing about which file
        # is meant).
        keep = (n_definers[r_ident] > 0) & (n_definers[r_ident] <= config.max_defining_files)
        r_ident, r_file, counts = r_ident[keep], r_file[keep], counts[keep]

        weighed = np.unique(r_ident)
        mul = np.zeros(len(names))
        mul[weighed] = [
            ident_weight(names[k], int(n_definers[k]), names[k] in mentioned, config) for k in weighed
        ]

        # One edge per (reference row, definer of its identifier).
        fan = n_definers[r_ident]
        row = np.repeat(np.arange(len(r_ident)), fan)
        within = np.arange(len(row)) - np.repeat(np.cumsum(fan) - fan, fan)
        src = r_file[row]
        edge_ident = r_ident[row]
        weight = (
            mul[edge_ident] * np.sqrt(counts[row]) * np.where(focus[src], config.focus_referencer_weight, 1.0)
        )
        referenced = np.zeros(len(names), dtype=bool)
        referenced[r_ident] = True
        return cls(
            base=base,
            def_ident=def_ident,
            def_file=def_file,
            pair_ident=pair_ident,
            pair_file=pair_file,
            referenced=referenced,
            src=src,
            dst=pair_file[start[edge_ident] + within],
            edge_ident=edge_ident,
            weight=weight,
        )

    def definition_scores(self, rank: np.ndarray, config: RankConfig) -> np.ndarray:
        """Per definition: the rank its edges bring in.

        A definition nobody references counts as a reference of `unreferenced_definition_weight` from its
        own file, taking that share of the file's out-weight (floored at one plain reference, so at most
        that fraction of the rank of a file that references nothing). It is no edge of the walk: a
        self-loop would hoard rank in files that reference nothing.
        """
        n = len(rank)
        out_weight = np.bincount(self.src, weights=self.weight, minlength=n)
        credit = rank[self.src] * self.weight / out_weight[self.src] if len(self.src) else self.weight
        lonely = ~self.referenced[self.pair_ident]
        lonely_file = self.pair_file[lonely]
        w = config.unreferenced_definition_weight
        total = out_weight + w * np.bincount(lonely_file, minlength=n)
        lonely_credit = w * rank[lonely_file] / np.maximum(total[lonely_file], 1.0)

        keys, inverse = np.unique(
            np.concatenate(
                (self.edge_ident * self.base + self.dst, self.pair_ident[lonely] * self.base + lonely_file)
            ),
            return_inverse=True,
        )
        sums = np.bincount(inverse, weights=np.concatenate((credit, lonely_credit)))
        wanted = self.def_ident * self.base + self.def_file
        score = np.zeros(len(wanted))
        if len(keys):
            where = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            hit = keys[where] == wanted
            score[hit] = sums[where[hit]]
        return score


def _jump_vector(favoured: np.ndarray, config: RankConfig) -> np.ndarray:
    """Uniform random jumps, except that favoured files share `focus_jump_share` of the mass."""
    n = len(favoured)
    jump = np.full(n, 1.0 / n if n else 0.0)
    chosen = int(favoured.sum())
    if 0 < chosen < n:
        jump *= 1 - config.focus_jump_share
        jump[favoured] += config.focus_jump_share / chosen
    return jump
