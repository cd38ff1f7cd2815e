"""Rendering: the text format, enclosing headers, elisions, and the largest prefix that fits the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.evals.bench_repo_map import make_repository
from mimo_agent.tools.repo_map import RepoMapper, estimate_tokens
from mimo_agent.tools.repo_map.files import list_source_files
from mimo_agent.tools.repo_map.rank import rank_definitions
from mimo_agent.tools.repo_map.render import ELISION, MapRenderer
from mimo_agent.tools.repo_map.tags import Tag, extract_tags

SOURCE = b"""\
import os


class Store:
    def load(self):
        return 1

    def save(self):
        return 2


def helper():
    pass
"""


def tags_of(source: bytes = SOURCE, file: str = "store.py") -> list[Tag]:
    return extract_tags(source, "python", file).definitions


def test_method_shown_under_its_class_with_elisions() -> None:
    defs = tags_of()
    save = next(t for t in defs if t.name == "save")
    text = MapRenderer([save], {"store.py": defs}).render(1)
    assert text == f"store.py:\n{ELISION}\n4│class Store:\n{ELISION}\n8│    def save(self):\n{ELISION}\n"


def test_adjacent_lines_have_no_elision_and_numbers_are_aligned() -> None:
    source = b"class A:\n    def f(self):\n        pass\n" + b"\n" * 8 + b"def g():\n    pass\n"
    defs = tags_of(source, "a.py")
    text = MapRenderer(defs, {"a.py": defs}).render(len(defs))
    assert text == f"a.py:\n 1│class A:\n 2│    def f(self):\n{ELISION}\n12│def g():\n{ELISION}\n"


def test_files_appear_in_the_order_of_their_best_definition() -> None:
    a, b = tags_of(file="a.py"), tags_of(file="b.py")
    ranked = [b[2], a[0], b[0]]
    text = MapRenderer(ranked, {"a.py": a, "b.py": b}).render(3)
    assert text.index("b.py:") < text.index("a.py:")
    assert text.count("b.py:") == 1


def test_long_lines_are_cut() -> None:
    source = b"def f(" + b", ".join(b"arg%d" % i for i in range(60)) + b"):\n    pass\n"
    defs = tags_of(source, "long.py")
    line = MapRenderer(defs, {"long.py": defs}).render(1).splitlines()[1]
    assert len(line) < 130 and line.endswith("…")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> MapRenderer:
    """A renderer over the ranking of a 48-file synthetic repository in all eight languages."""
    root = tmp_path_factory.mktemp("synthetic")
    make_repository(root, 48)
    files = {
        f.rel: extract_tags((root / f.rel).read_bytes(), f.language, f.rel)
        for f in list_source_files(root, 10**6)
    }
    ranked = rank_definitions(files)
    return MapRenderer(ranked, {f: t.definitions for f, t in files.items()})


@pytest.mark.parametrize("budget", [1, 16, 64, 256, 1024, 4096])
def test_fit_uses_the_largest_prefix_within_budget(synthetic: MapRenderer, budget: int) -> None:
    text, shown = synthetic.fit(budget)
    assert estimate_tokens(text) <= budget
    assert text == synthetic.render(shown)
    if shown < len(synthetic.ranked):
        assert estimate_tokens(synthetic.render(shown + 1)) > budget


def test_fit_with_a_custom_token_counter(synthetic: MapRenderer) -> None:
    def words(text: str) -> int:
        return len(text.split())

    text, shown = synthetic.fit(200, words)
    assert words(text) <= 200 < words(synthetic.render(shown + 1))
    assert shown > 0


def test_nothing_fits_gives_empty_text(synthetic: MapRenderer) -> None:
    assert synthetic.fit(1) == ("", 0)


def test_everything_fits_gives_the_whole_map() -> None:
    defs = tags_of()
    renderer = MapRenderer(defs, {"store.py": defs})
    text, shown = renderer.fit(10_000)
    assert shown == len(defs) and text == renderer.render(len(defs))


def test_empty_ranking() -> None:
    assert MapRenderer([], {}).fit(100) == ("", 0)


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2


def test_budget_respected_end_to_end(tmp_path: Path) -> None:
    make_repository(tmp_path, 24)
    for budget in (64, 300, 2000):
        result = RepoMapper(tmp_path, cache_dir=None).build(max_tokens=budget)
        assert 0 < estimate_tokens(result.text) <= budget
