"""Calendar arithmetic on (year, month, day) tuples."""

from mimo_agent.evals.tasks.template import ProgramTemplate

CALENDAR = '''"""Leap years and month lengths (proleptic Gregorian calendar)."""

MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def is_leap(year):
    {% return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) || if year % 400 == 0:
        return True
    if year % 100 == 0:
        return False
    return year % 4 == 0 %}


def days_in_month(year, month):
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    if month == 2 and is_leap(year):
        return 29
    return MONTH_DAYS[month - 1]


def days_in_year(year):
    return 366 if is_leap(year) else 365
'''

RANGES = '''"""Day counts and ranges of dates."""

from dates.calendar import days_in_month, days_in_year


def day_of_year(date):
    """1 for January 1st."""
    year, month, day = date
    total = day
    for earlier in range(1, month):
        total += days_in_month(year, earlier)
    return total


def days_between(start, end):
    """Whole days from `start` to `end` (negative when `end` is earlier)."""
    if end < start:
        return -days_between(end, start)
    days = day_of_year(end) - day_of_year(start)
    for year in range(start[0], end[0]):
        days += days_in_year(year)
    return days


def add_days(date, count):
    """The date `count` days after `date` (count >= 0)."""
    year, month, day = date
    day += count
    while day > days_in_month(year, month):
        day -= days_in_month(year, month)
        month += 1
        if month > 12:
            month = 1
            year += 1
    return (year, month, day)


def overlap(first, second):
    """Days shared by two inclusive (start, end) ranges, 0 when disjoint."""
    start = max(first[0], second[0])
    end = min(first[1], second[1])
    if end < start:
        return 0
    return days_between(start, end) + 1
'''

TEST_CALENDAR = """import pytest

from dates.calendar import days_in_month, days_in_year, is_leap


def test_leap_years():
    assert [is_leap(y) for y in (2024, 2023, 1900, 2000)] == [True, False, False, True]


def test_days_in_month():
    assert days_in_month(2023, 4) == 30
    assert days_in_month(2023, 12) == 31


def test_february():
    assert days_in_month(2024, 2) == 29
    assert days_in_month(2023, 2) == 28


def test_bad_month():
    with pytest.raises(ValueError):
        days_in_month(2023, 13)


def test_days_in_year():
    assert days_in_year(2000) == 366
"""

TEST_RANGES = """from dates.ranges import add_days, day_of_year, days_between, overlap


def test_day_of_year_first():
    assert day_of_year((2023, 1, 1)) == 1


def test_day_of_year_march_leap():
    assert day_of_year((2024, 3, 1)) == 61


def test_days_between_same_year():
    assert days_between((2023, 1, 10), (2023, 2, 10)) == 31


def test_days_between_years():
    assert days_between((2023, 12, 31), (2025, 1, 1)) == 367


def test_days_between_reversed():
    assert days_between((2023, 1, 5), (2023, 1, 1)) == -4


def test_add_days_within_month():
    assert add_days((2023, 5, 3), 10) == (2023, 5, 13)


def test_add_days_across_year():
    assert add_days((2023, 12, 30), {=shift=}) == {=(2024, 1, shift - 1)=}


def test_add_days_leap():
    assert add_days((2024, 2, 28), 1) == (2024, 2, 29)


def test_overlap():
    assert overlap(((2023, 1, 1), (2023, 1, 10)), ((2023, 1, 8), (2023, 1, 20))) == 3


def test_overlap_disjoint():
    assert overlap(((2023, 1, 1), (2023, 1, 5)), ((2023, 2, 1), (2023, 2, 5))) == 0
"""

TEMPLATE = ProgramTemplate(
    name="date_ranges",
    files={
        "dates/__init__.py": '"""Date arithmetic."""\n',
        "dates/calendar.py": CALENDAR,
        "dates/ranges.py": RANGES,
        "tests/test_calendar.py": TEST_CALENDAR,
        "tests/test_ranges.py": TEST_RANGES,
    },
    names={
        "dates": ("daycount", "almanac", "datekit"),
        "calendar": ("gregorian", "months"),
        "ranges": ("spans", "periods"),
        "is_leap": ("leap_year", "is_leap_year"),
        "days_in_month": ("month_length", "month_days"),
        "days_in_year": ("year_length", "year_days"),
        "day_of_year": ("ordinal_day", "yday"),
        "days_between": ("day_difference", "delta_days"),
        "add_days": ("shift_date", "plus_days"),
        "overlap": ("shared_days", "intersection_days"),
        "MONTH_DAYS": ("LENGTHS", "DAYS_PER_MONTH"),
    },
    constants={"shift": (3, 5, 9)},
)
