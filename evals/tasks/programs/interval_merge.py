"""Integer intervals: merging, lengths, gaps and parsing."""

from mimo_agent.evals.tasks.template import ProgramTemplate

OPS = '''"""Operations on half-open integer intervals [start, end)."""


def merge(intervals):
    """Sorted, non-overlapping intervals covering the same points; touching intervals join."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_length(intervals):
    {% return sum(end - start for start, end in merge(intervals)) || total = 0
    for start, end in merge(intervals):
        total += end - start
    return total %}


def contains(intervals, point):
    return any(start <= point < end for start, end in intervals)


def gaps(intervals, low, high):
    """Uncovered stretches of [low, high)."""
    found = []
    cursor = low
    for start, end in merge(intervals):
        if start > cursor:
            found.append((cursor, min(start, high)))
        cursor = max(cursor, end)
        if cursor >= high:
            break
    if cursor < high:
        found.append((cursor, high))
    return found


def widest(intervals):
    """The longest interval, the first one on a tie; None for no intervals."""
    best = None
    for start, end in intervals:
        if best is None or end - start > best[1] - best[0]:
            best = (start, end)
    return best
'''

PARSE = '''"""Text form of intervals: 'START-END', several joined by ', '."""

SEPARATOR = "-"


def parse_interval(text):
    start_text, end_text = text.strip().split(SEPARATOR)
    start, end = int(start_text), int(end_text)
    if end < start:
        raise ValueError("end before start: " + text)
    return (start, end)


def parse_many(text):
    return [parse_interval(part) for part in text.split(",") if part.strip()]


def format_intervals(intervals, limit={=limit=}):
    """At most `limit` intervals as text, with '...' when some were left out."""
    shown = [str(s) + SEPARATOR + str(e) for s, e in intervals[:limit]]
    if len(intervals) > limit:
        shown.append("...")
    return ", ".join(shown)
'''

TEST_OPS = """from interval_tools.ops import contains, covered_length, gaps, merge, widest


def test_merge_overlapping():
    assert merge([(5, 8), (1, 3), (2, 4)]) == [(1, 4), (5, 8)]


def test_merge_touching():
    assert merge([(1, 3), (3, 6)]) == [(1, 6)]


def test_merge_nested():
    assert merge([(1, 10), (2, 3)]) == [(1, 10)]


def test_covered_length():
    assert covered_length([(0, 5), (3, 8), (10, 12)]) == 10


def test_contains():
    assert contains([(0, 5), (10, 12)], 11)


def test_contains_end_excluded():
    assert not contains([(0, 5)], 5)


def test_gaps():
    assert gaps([(2, 4), (6, 7)], 0, 10) == [(0, 2), (4, 6), (7, 10)]


def test_gaps_none():
    assert gaps([(0, 10)], 2, 8) == []


def test_widest():
    assert widest([(0, 2), (5, 9), (10, 14)]) == (5, 9)


def test_widest_empty():
    assert widest([]) is None
"""

TEST_PARSE = """import pytest

from interval_tools.parse import format_intervals, parse_interval, parse_many


def test_parse_interval():
    assert parse_interval(" 3-7 ") == (3, 7)


def test_parse_interval_reversed():
    with pytest.raises(ValueError):
        parse_interval("9-2")


def test_parse_many():
    assert parse_many("1-2, 4-9,") == [(1, 2), (4, 9)]


def test_format_intervals():
    assert format_intervals([(1, 2), (4, 9)]) == "1-2, 4-9"


def test_format_intervals_limit():
    assert format_intervals([(0, 1)] * {=limit + 1=}) == {=", ".join(["0-1"] * limit + ["..."])=}


def test_format_intervals_custom_limit():
    assert format_intervals([(1, 2), (4, 9), (10, 11)], limit=2) == "1-2, 4-9, ..."
"""

TEMPLATE = ProgramTemplate(
    name="interval_merge",
    files={
        "interval_tools/__init__.py": '"""Interval arithmetic."""\n',
        "interval_tools/ops.py": OPS,
        "interval_tools/parse.py": PARSE,
        "tests/test_ops.py": TEST_OPS,
        "tests/test_parse.py": TEST_PARSE,
    },
    names={
        "interval_tools": ("spanlib", "ranges_kit", "segments"),
        "ops": ("algebra", "coverage"),
        "parse": ("text_form", "codec"),
        "merge": ("coalesce", "union"),
        "covered_length": ("total_covered", "measure"),
        "contains": ("covers", "includes"),
        "gaps": ("holes", "uncovered"),
        "widest": ("longest_span", "largest"),
        "parse_interval": ("read_interval", "from_text"),
        "parse_many": ("read_all", "parse_list"),
        "format_intervals": ("to_text", "describe"),
        "SEPARATOR": ("DASH", "JOINER"),
    },
    constants={"limit": (3, 4, 5)},
)
