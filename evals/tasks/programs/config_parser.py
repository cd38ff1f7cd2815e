"""An INI-like configuration parser with typed getters."""

from mimo_agent.evals.tasks.template import ProgramTemplate

PARSER = '''"""Parse 'key = value' lines grouped under '[section]' headers."""

COMMENT = "#"
DEFAULT_SECTION = "main"


def parse_config(text):
    """{section: {key: value}}; keys before any header go to DEFAULT_SECTION."""
    config = {DEFAULT_SECTION: {}}
    section = DEFAULT_SECTION
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(COMMENT):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            config.setdefault(section, {})
            continue
        if "=" not in line:
            raise ValueError("line " + str(number) + ": expected key = value")
        key, value = line.split("=", 1)
        config[section][key.strip()] = value.strip()
    return config


def sections(config):
    """Section names that hold at least one key, sorted."""
    {% return sorted(name for name, values in config.items() if values) || names = []
    for name, values in config.items():
        if values:
            names.append(name)
    return sorted(names) %}
'''

VALUES = '''"""Typed access to parsed values."""

TRUE_WORDS = ("yes", "true", "on", "1")


def get_bool(config, section, key, default=False):
    if key not in config.get(section, {}):
        return default
    return config[section][key].lower() in TRUE_WORDS


def get_int(config, section, key, default=0):
    raw = config.get(section, {}).get(key)
    if raw is None:
        return default
    return int(raw)


def get_list(config, section, key, separator=","):
    raw = config.get(section, {}).get(key, "")
    return [item.strip() for item in raw.split(separator) if item.strip()]


def merged(base, override):
    """A new config: sections of both, `override` winning per key."""
    result = {name: dict(values) for name, values in base.items()}
    for name, values in override.items():
        result.setdefault(name, {}).update(values)
    return result
'''

TEST_PARSER = '''import pytest

from confparse.parser import parse_config, sections

TEXT = """
# settings
name = demo
[server]
port = 8080
debug = yes

[empty]
[paths]
roots = /a, /b ,/c
"""


def test_default_section():
    assert parse_config(TEXT)["main"] == {"name": "demo"}


def test_section_values():
    assert parse_config(TEXT)["server"] == {"port": "8080", "debug": "yes"}


def test_value_with_equals_sign():
    assert parse_config("url = a=b")["main"]["url"] == "a=b"


def test_bad_line():
    with pytest.raises(ValueError):
        parse_config("[x]\\njust words")


def test_sections_skip_empty():
    assert sections(parse_config(TEXT)) == ["main", "paths", "server"]
'''

TEST_VALUES = """from confparse.values import get_bool, get_int, get_list, merged

CONFIG = {"server": {"port": "8080", "debug": "Yes", "verbose": "off", "hosts": "a, b,,c"}}


def test_get_bool_true():
    assert get_bool(CONFIG, "server", "debug")


def test_get_bool_false():
    assert not get_bool(CONFIG, "server", "verbose")


def test_get_bool_default():
    assert get_bool(CONFIG, "server", "missing", default=True)


def test_get_bool_missing_section():
    assert not get_bool(CONFIG, "client", "debug")


def test_get_int():
    assert get_int(CONFIG, "server", "port") == 8080


def test_get_int_default():
    assert get_int(CONFIG, "server", "timeout") == 0
    assert get_int(CONFIG, "server", "timeout", {=timeout=}) == {=timeout=}


def test_get_list():
    assert get_list(CONFIG, "server", "hosts") == ["a", "b", "c"]


def test_get_list_separator():
    assert get_list({"s": {"k": "x;y"}}, "s", "k", separator=";") == ["x", "y"]


def test_merged():
    base = {"a": {"x": "1", "y": "2"}}
    override = {"a": {"y": "3"}, "b": {"z": "4"}}
    assert merged(base, override) == {"a": {"x": "1", "y": "3"}, "b": {"z": "4"}}


def test_merged_leaves_base():
    base = {"a": {"x": "1"}}
    merged(base, {"a": {"x": "2"}})
    assert base == {"a": {"x": "1"}}
"""

TEMPLATE = ProgramTemplate(
    name="config_parser",
    files={
        "confparse/__init__.py": '"""Configuration files."""\n',
        "confparse/parser.py": PARSER,
        "confparse/values.py": VALUES,
        "tests/test_parser.py": TEST_PARSER,
        "tests/test_values.py": TEST_VALUES,
    },
    names={
        "confparse": ("settings", "iniread", "cfgkit"),
        "parser": ("reader", "loader"),
        "values": ("typed", "access"),
        "parse_config": ("load_config", "read_ini"),
        "sections": ("section_names", "nonempty_sections"),
        "get_bool": ("as_bool", "read_flag"),
        "get_int": ("as_int", "read_number"),
        "get_list": ("as_list", "read_items"),
        "merged": ("combine", "overlay"),
        "DEFAULT_SECTION": ("ROOT_SECTION", "TOP_LEVEL"),
        "TRUE_WORDS": ("TRUTHY", "ON_VALUES"),
    },
    constants={"timeout": (5, 30, 60)},
)
