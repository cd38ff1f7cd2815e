"""Ranking: PageRank against an exact linear solve, and the ways focus and identifiers steer the ranking."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mimo_agent.tools.repo_map import RankConfig, RepoMapper
from mimo_agent.tools.repo_map.rank import is_specific, pagerank, rank_definitions
from mimo_agent.tools.repo_map.tags import FileTags, Tag

FIXTURES = Path(__file__).parent / "fixtures" / "repo_map"


def files(spec: dict[str, tuple[list[str], list[str]]]) -> dict[str, FileTags]:
    """{file: (defined names, referenced names with repeats)} as FileTags, one definition per line."""
    return {
        file: FileTags(
            [Tag(file, name, "function", i + 1, i + 1, f"def {name}():") for i, name in enumerate(defs)],
            dict(Counter(refs)),
            [],
        )
        for file, (defs, refs) in spec.items()
    }


def order(ranked: list[Tag]) -> list[str]:
    return [f"{t.file}:{t.name}" for t in ranked]


def test_pagerank_matches_exact_solution_with_parallel_edges_and_dangling_nodes() -> None:
    rng = np.random.default_rng(0)
    n = 7
    src = rng.integers(0, n - 2, 30)  # the last two nodes have no out-edges
    dst = rng.integers(0, n, 30)
    weight = rng.uniform(0.1, 3.0, 30)
    jump = rng.uniform(0.0, 1.0, n)
    jump /= jump.sum()
    config = RankConfig(tolerance=1e-13, max_iterations=1000)
    got = pagerank(n, src, dst, weight, jump, config)

    transition = np.zeros((n, n))
    np.add.at(transition, (src, dst), weight)
    out = transition.sum(axis=1)
    transition[out > 0] /= out[out > 0, None]
    transition[out == 0] = jump  # a walker stuck on a dangling node jumps
    d = config.damping
    exact = np.linalg.solve(np.eye(n) - d * transition.T, (1 - d) * jump)
    np.testing.assert_allclose(got, exact, atol=1e-10)
    assert got.sum() == pytest.approx(1.0)


def test_focus_file_neighbours_come_first() -> None:
    tags = files(
        {
            "focus.py": ([], ["helper_one"]),
            "near.py": (["helper_one"], []),
            "far.py": (["popular"], []),
            "user1.py": ([], ["popular"] * 3),
            "user2.py": ([], ["popular"] * 3),
            "user3.py": ([], ["popular"] * 3),
        }
    )
    assert order(rank_definitions(tags))[0] == "far.py:popular"
    assert order(rank_definitions(tags, focus_files={"focus.py"}))[0] == "near.py:helper_one"


def test_mentioned_identifier_is_lifted() -> None:
    tags = files(
        {
            "a.py": (["alpha", "beta"], []),
            "b.py": ([], ["alpha", "alpha", "beta"]),
        }
    )
    assert order(rank_definitions(tags))[0] == "a.py:alpha"
    assert order(rank_definitions(tags, mentioned_idents={"beta"}))[0] == "a.py:beta"


def test_private_names_rank_below_equally_used_public_names() -> None:
    tags = files({"a.py": (["_hidden", "shown"], []), "b.py": ([], ["_hidden", "shown"])})
    assert order(rank_definitions(tags)) == ["a.py:shown", "a.py:_hidden"]


def test_mentioned_file_is_favoured() -> None:
    tags = files(
        {
            "x.py": (["one"], []),
            "y.py": (["two"], []),
            "uses_x.py": ([], ["one"]),
            "uses_y.py": ([], ["two"]),
        }
    )
    assert order(rank_definitions(tags))[0] == "x.py:one"  # a tie, broken by path order
    assert order(rank_definitions(tags, mentioned_files={"uses_y.py"}))[0] == "y.py:two"


def test_every_definition_is_returned_and_unreferenced_ones_rank_below_used_ones() -> None:
    tags = files(
        {"a.py": (["used", "unused"], ["shared"]), "b.py": (["lonely"], ["used"]), "c.py": (["shared"], [])}
    )
    ranked = order(rank_definitions(tags))
    assert sorted(ranked) == ["a.py:unused", "a.py:used", "b.py:lonely", "c.py:shared"]
    assert ranked.index("a.py:used") < ranked.index("a.py:unused")


def test_without_any_reference_definitions_keep_path_and_line_order() -> None:
    tags = files({"b.py": (["z", "y"], []), "a.py": (["x"], [])})
    assert order(rank_definitions(tags)) == ["a.py:x", "b.py:z", "b.py:y"]


def test_empty_repository() -> None:
    assert rank_definitions({}) == []
    assert rank_definitions(files({"a.py": ([], ["x"])})) == []


def test_names_defined_nearly_everywhere_are_left_out_of_the_graph() -> None:
    """Like `__init__` in a large repository: definers x referencers edges would number millions."""
    spec = {f"m{i}.py": (["common"], []) for i in range(4)}
    spec["special.py"] = (["rare_thing"], [])
    spec["user.py"] = ([], ["common"] * 400 + ["rare_thing"])
    tags = files(spec)
    assert order(rank_definitions(tags, config=RankConfig(max_defining_files=10)))[0] == "m0.py:common"
    assert (
        order(rank_definitions(tags, config=RankConfig(max_defining_files=3)))[0] == "special.py:rare_thing"
    )


def test_a_file_referencing_nothing_does_not_hoard_rank() -> None:
    """Regression: with Aider's self-loops for unreferenced names, such a file became a rank sink."""
    tags = files({"island.py": (["unused_a"], []), "lib.py": (["used_b"], []), "app.py": ([], ["used_b"])})
    assert order(rank_definitions(tags))[0] == "lib.py:used_b"


def test_specific_identifiers() -> None:
    assert is_specific("parse_config", 8) and is_specific("parseConfig", 8)
    assert not is_specific("parse", 8) and not is_specific("CONSTANT", 8) and not is_specific("__init__", 8)


@pytest.mark.parametrize(
    "field,value",
    [
        ("damping", 1.0),
        ("damping", 0.0),
        ("focus_jump_share", 1.5),
        ("private_ident_weight", -1.0),
        ("max_iterations", 0),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"RankConfig.{field}"):
        RankConfig(**{field: value})


def test_focus_on_a_sample_file_puts_what_it_uses_first() -> None:
    """app.py calls blank_canvas and builds Point/Shape: those lead the map focused on it."""
    mapper = RepoMapper(FIXTURES / "python", cache_dir=None)
    result = mapper.build(focus="app.py", max_tokens=60)
    first_file = result.text.splitlines()[0]
    assert first_file in ("shapes/render.py:", "shapes/geometry.py:")
    unfocused = mapper.build(max_tokens=60).text
    assert "blank_canvas" in result.text and result.text != unfocused
