"""Daily temperature readings: summaries, streaks and moving averages."""

from mimo_agent.evals.tasks.template import ProgramTemplate

READINGS = '''"""A log of (day, degrees Celsius) readings."""


class TemperatureLog:
    def __init__(self):
        self.readings = []

    def record(self, day, celsius):
        if self.readings and day <= self.readings[-1][0]:
            raise ValueError("days must increase")
        self.readings.append((day, celsius))

    def values(self):
        return [celsius for _, celsius in self.readings]

    def mean(self, digits=1):
        values = self.values()
        if not values:
            raise ValueError("no readings")
        return round(sum(values) / len(values), digits)

    def warmest_day(self):
        """Day of the highest reading; the earliest such day on a tie."""
        best_day, best = None, None
        for day, celsius in self.readings:
            if best is None or celsius > best:
                best_day, best = day, celsius
        return best_day

    def longest_streak_above(self, threshold):
        """Most consecutive readings strictly above `threshold`."""
        longest = current = 0
        for celsius in self.values():
            if celsius > threshold:
                current += 1
                longest = max(longest, current)
            else:
                current = 0
        return longest

    def frost_days(self):
        return [day for day, celsius in self.readings if celsius < 0]
'''

SMOOTH = '''"""Smoothing and unit helpers for readings."""

WINDOW = {=window=}


def moving_average(values, window=WINDOW):
    """Averages of each run of `window` consecutive values, rounded to 2 places."""
    if window < 1:
        raise ValueError("window must be positive")
    {% averages = []
    for start in range(len(values) - window + 1):
        chunk = values[start:start + window]
        averages.append(round(sum(chunk) / window, 2))
    return averages || return [round(sum(values[i:i + window]) / window, 2) for i in range(len(values) - window + 1)] %}


def to_fahrenheit(celsius):
    return round(celsius * 1.8 + 32, 1)


def spread(values):
    """Difference between the highest and the lowest value."""
    if not values:
        return 0
    return max(values) - min(values)


def rising_days(values):
    """How many values are higher than the one before."""
    count = 0
    for index in range(1, len(values)):
        if values[index] > values[index - 1]:
            count += 1
    return count
'''

TEST_READINGS = """import pytest

from templog.readings import TemperatureLog


def test_record_and_values():
    log = TemperatureLog()
    log.record(1, 5.0)
    log.record(2, 7.5)
    assert log.values() == [5.0, 7.5]


def test_record_rejects_old_day():
    log = TemperatureLog()
    log.record(3, 1.0)
    with pytest.raises(ValueError):
        log.record(3, 2.0)


def test_mean():
    log = TemperatureLog()
    for day, value in enumerate([3.0, 4.0, 8.0]):
        log.record(day, value)
    assert log.mean() == 5.0


def test_mean_digits():
    log = TemperatureLog()
    for day, value in enumerate([1.0, 2.0, 2.0]):
        log.record(day, value)
    assert log.mean(digits=2) == 1.67


def test_mean_empty():
    with pytest.raises(ValueError):
        TemperatureLog().mean()


def test_warmest_day():
    log = TemperatureLog()
    for day, value in [(1, 4.0), (2, 9.5), (3, 9.5), (4, -1.0)]:
        log.record(day, value)
    assert log.warmest_day() == 2


def test_longest_streak_above():
    log = TemperatureLog()
    for day, value in enumerate([12, 15, 16, 9, 18, 19, 20, 10]):
        log.record(day, value)
    assert log.longest_streak_above(11) == 3


def test_streak_threshold_is_strict():
    log = TemperatureLog()
    for day, value in enumerate([10, 10, 11]):
        log.record(day, value)
    assert log.longest_streak_above(10) == 1


def test_frost_days():
    log = TemperatureLog()
    for day, value in [(1, -2.0), (2, 0.0), (3, -0.5)]:
        log.record(day, value)
    assert log.frost_days() == [1, 3]
"""

TEST_SMOOTH = """import pytest

from templog.smooth import moving_average, rising_days, spread, to_fahrenheit


def test_moving_average_default_window():
    assert moving_average(list(range({=window + 2=}))) == {=[round((2 * i + window - 1) / 2, 2) for i in range(3)]=}


def test_moving_average_window_two():
    assert moving_average([1, 3, 5, 10], window=2) == [2.0, 4.0, 7.5]


def test_moving_average_too_short():
    assert moving_average([1, 2], window=3) == []


def test_moving_average_bad_window():
    with pytest.raises(ValueError):
        moving_average([1, 2], window=0)


def test_to_fahrenheit():
    assert to_fahrenheit(20) == 68.0


def test_spread():
    assert spread([3, -2, 8, 1]) == 10


def test_spread_empty():
    assert spread([]) == 0


def test_rising_days():
    assert rising_days([1, 2, 2, 5, 3, 4]) == 3
"""

TEMPLATE = ProgramTemplate(
    name="temperature_log",
    files={
        "templog/__init__.py": '"""Temperature logs."""\n',
        "templog/readings.py": READINGS,
        "templog/smooth.py": SMOOTH,
        "tests/test_readings.py": TEST_READINGS,
        "tests/test_smooth.py": TEST_SMOOTH,
    },
    names={
        "templog": ("weather", "thermo", "climate"),
        "readings": ("journal", "series"),
        "smooth": ("filters", "trends"),
        "TemperatureLog": ("WeatherLog", "Thermometer", "DailyLog"),
        "record": ("add_reading", "log_day"),
        "warmest_day": ("hottest_day", "peak_day"),
        "longest_streak_above": ("warm_streak", "run_above"),
        "frost_days": ("freezing_days", "below_zero"),
        "moving_average": ("rolling_mean", "smoothed"),
        "to_fahrenheit": ("fahrenheit", "as_fahrenheit"),
        "spread": ("value_range", "amplitude"),
        "rising_days": ("count_rises", "increases"),
        "WINDOW": ("SPAN", "DEFAULT_WINDOW"),
    },
    constants={"window": (3, 4, 5)},
)
