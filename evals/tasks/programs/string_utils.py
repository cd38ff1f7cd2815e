"""String helpers: case conversion, padding, truncation."""

from mimo_agent.evals.tasks.template import ProgramTemplate

CASE = '''"""Converting between naming styles."""


def snake_to_camel(name):
    """'total_line_count' -> 'totalLineCount'."""
    parts = name.split("_")
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def camel_to_snake(name):
    """'totalLineCount' -> 'total_line_count'."""
    out = ""
    for index, char in enumerate(name):
        if char.isupper() and index > 0:
            out += "_"
        out += char.lower()
    return out


def title_words(text, keep_small=True):
    """Capitalise each word; short joining words stay lower case unless first."""
    small = {"a", "an", "of", "the", "and"}
    words = text.split()
    result = []
    for position, word in enumerate(words):
        if keep_small and position > 0 and word in small:
            result.append(word)
        else:
            result.append(word.capitalize())
    return " ".join(result)
'''

TEXT = '''"""Fitting text into a width."""

ELLIPSIS = "..."


def truncate(text, width):
    """Cut `text` to at most `width` characters, ending with ELLIPSIS when cut."""
    if len(text) <= width:
        return text
    return text[: width - len(ELLIPSIS)] + ELLIPSIS


def pad_left(text, width, fill=" "):
    missing = width - len(text)
    if missing <= 0:
        return text
    return fill * missing + text


def count_vowels(text):
    {% return sum(1 for char in text.lower() if char in "aeiou") || total = 0
    for char in text.lower():
        if char in "aeiou":
            total += 1
    return total %}


def reverse_words(text):
    return " ".join(reversed(text.split()))


def is_blank(text):
    return not text or text.isspace()


def repeat_join(piece, times, separator="-"):
    return separator.join([piece] * times)
'''

TEST_CASE = """from strutil.case import camel_to_snake, snake_to_camel, title_words


def test_snake_to_camel():
    assert snake_to_camel("total_line_count") == "totalLineCount"


def test_snake_to_camel_single():
    assert snake_to_camel("word") == "word"


def test_camel_to_snake():
    assert camel_to_snake("totalLineCount") == "total_line_count"


def test_camel_to_snake_leading_capital():
    assert camel_to_snake("Parser") == "parser"


def test_title_words():
    assert title_words("the lord of the rings") == "The Lord of the Rings"


def test_title_words_all():
    assert title_words("war and peace", keep_small=False) == "War And Peace"
"""

TEST_TEXT = """from strutil.text import count_vowels, is_blank, pad_left, repeat_join, reverse_words, truncate


def test_truncate_short_text_unchanged():
    assert truncate("short", 10) == "short"


def test_truncate_exact_width():
    assert truncate("abcdef", 6) == "abcdef"


def test_truncate_long():
    assert truncate("abcdefghijkl", 8) == "abcde..."


def test_pad_left():
    assert pad_left("42", 5) == "   42"


def test_pad_left_fill():
    assert pad_left("7", 3, "0") == "007"


def test_pad_left_too_long():
    assert pad_left("12345", 3) == "12345"


def test_count_vowels():
    assert count_vowels("Education") == 5


def test_reverse_words():
    assert reverse_words("one two  three") == "three two one"


def test_is_blank():
    assert is_blank("   ")
    assert is_blank("")


def test_is_blank_text():
    assert not is_blank(" x ")


def test_repeat_join():
    assert repeat_join("ab", {=times=}) == {="-".join(["ab"] * times)=}


def test_repeat_join_separator():
    assert repeat_join("x", 3, separator="+") == "x+x+x"
"""

TEMPLATE = ProgramTemplate(
    name="string_utils",
    files={
        "strutil/__init__.py": '"""String utilities."""\n',
        "strutil/case.py": CASE,
        "strutil/text.py": TEXT,
        "tests/test_case.py": TEST_CASE,
        "tests/test_text.py": TEST_TEXT,
    },
    names={
        "strutil": ("textkit", "strings", "wordsmith"),
        "case": ("naming", "styles"),
        "text": ("layout", "fitting"),
        "snake_to_camel": ("to_camel", "camelize"),
        "camel_to_snake": ("to_snake", "snakify"),
        "title_words": ("titlecase", "headline"),
        "keep_small": ("skip_minor", "lower_small"),
        "truncate": ("shorten", "clip"),
        "pad_left": ("left_pad", "rjust_text"),
        "count_vowels": ("vowel_count", "vowels_in"),
        "reverse_words": ("words_reversed", "flip_words"),
        "is_blank": ("blank", "is_empty_text"),
        "repeat_join": ("repeat", "joined_copies"),
        "ELLIPSIS": ("MORE", "CUT_MARK"),
    },
    constants={"times": (2, 3, 4)},
)
