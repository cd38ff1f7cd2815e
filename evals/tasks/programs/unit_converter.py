"""Converting lengths, masses and temperatures."""

from mimo_agent.evals.tasks.template import ProgramTemplate

TABLES = '''"""Conversion factors to the base unit of each dimension (metre, gram)."""

LENGTH = {"km": 1000, "m": 1, "cm": 0.01, "mm": 0.001, "mi": 1609.344}
MASS = {"kg": 1000, "g": 1, "lb": 453.59237}


def dimension_of(unit):
    if unit in LENGTH:
        return "length"
    if unit in MASS:
        return "mass"
    raise KeyError(unit)


def factor(unit):
    """Size of `unit` in its dimension's base unit."""
    table = LENGTH if dimension_of(unit) == "length" else MASS
    return table[unit]
'''

CONVERT = '''"""Conversions between units."""

from units.tables import dimension_of, factor

FREEZING_F = 32


def convert(value, source, target, digits={=digits=}):
    """`value` in unit `source` expressed in unit `target`, rounded to `digits` places."""
    if dimension_of(source) != dimension_of(target):
        raise ValueError("cannot convert " + source + " to " + target)
    return round(value * factor(source) / factor(target), digits)


def celsius_to_fahrenheit(celsius):
    return celsius * 9 / 5 + FREEZING_F


def fahrenheit_to_celsius(fahrenheit):
    return (fahrenheit - FREEZING_F) * 5 / 9


def describe(value, unit, digits=1):
    """'12.5 km' style text; a value of exactly one uses no plural mark."""
    shown = round(value, digits)
    {% label = unit if shown == 1 else unit + "s" || label = unit + ("" if shown == 1 else "s") %}
    return str(shown) + " " + label


def total_length(measurements, unit="m"):
    """Sum of (value, unit) pairs, in `unit`."""
    total = 0
    for value, source in measurements:
        total += convert(value, source, unit, digits=6)
    return round(total, 3)
'''

TEST_TABLES = """import pytest

from units.tables import dimension_of, factor


def test_dimension_of_length():
    assert dimension_of("cm") == "length"


def test_dimension_of_mass():
    assert dimension_of("lb") == "mass"


def test_dimension_of_unknown():
    with pytest.raises(KeyError):
        dimension_of("parsec")


def test_factor():
    assert factor("km") == 1000
    assert factor("g") == 1
"""

TEST_CONVERT = """import pytest

from units.convert import celsius_to_fahrenheit, convert, describe, fahrenheit_to_celsius, total_length


def test_convert_km_to_m():
    assert convert(3, "km", "m") == 3000


def test_convert_cm_to_m():
    assert convert(250, "cm", "m") == 2.5


def test_convert_mass():
    assert convert(2, "kg", "lb") == {=round(2000 / 453.59237, digits)=}


def test_convert_digits():
    assert convert(1, "mi", "km", digits=1) == 1.6


def test_convert_mismatch():
    with pytest.raises(ValueError):
        convert(1, "kg", "m")


def test_celsius_to_fahrenheit():
    assert celsius_to_fahrenheit(100) == 212


def test_fahrenheit_to_celsius():
    assert fahrenheit_to_celsius(-40) == -40


def test_describe_plural():
    assert describe(12.54, "km") == "12.5 kms"


def test_describe_single():
    assert describe(1.0, "mile") == "1.0 mile"


def test_total_length():
    assert total_length([(1, "km"), (50, "m"), (500, "cm")]) == 1055.0


def test_total_length_in_km():
    assert total_length([(1500, "m"), (1, "km")], unit="km") == 2.5
"""

TEMPLATE = ProgramTemplate(
    name="unit_converter",
    files={
        "units/__init__.py": '"""Unit conversion."""\n',
        "units/tables.py": TABLES,
        "units/convert.py": CONVERT,
        "tests/test_tables.py": TEST_TABLES,
        "tests/test_convert.py": TEST_CONVERT,
    },
    names={
        "units": ("measure", "convertkit", "metric"),
        "tables": ("factors", "registry"),
        "convert": ("conversion", "transform"),
        "dimension_of": ("kind_of", "dimension"),
        "factor": ("scale_of", "base_factor"),
        "celsius_to_fahrenheit": ("c_to_f", "to_fahrenheit"),
        "fahrenheit_to_celsius": ("f_to_c", "to_celsius"),
        "describe": ("label_for", "pretty"),
        "total_length": ("sum_lengths", "combined_length"),
        "FREEZING_F": ("FREEZE_POINT", "OFFSET_F"),
        "LENGTH": ("LENGTHS", "DISTANCE"),
        "MASS": ("WEIGHT", "MASSES"),
    },
    constants={"digits": (2, 3, 4)},
)
