"""Word and sentence statistics over plain text."""

from mimo_agent.evals.tasks.template import ProgramTemplate

TOKENS = '''"""Splitting text into words and sentences."""

PUNCTUATION = ".,;:!?\\"'()"


def split_words(text):
    """Lower-cased words with surrounding punctuation removed."""
    {% found = []
    for raw in text.split():
        cleaned = raw.strip(PUNCTUATION).lower()
        if cleaned:
            found.append(cleaned)
    return found || cleaned = [raw.strip(PUNCTUATION).lower() for raw in text.split()]
    return [word for word in cleaned if word] %}


def split_sentences(text):
    """Sentences ended by '.', '!' or '?', without the terminator and surrounding spaces."""
    sentences = []
    current = ""
    for char in text:
        if char in ".!?":
            if current.strip():
                sentences.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        sentences.append(current.strip())
    return sentences
'''

METRICS = '''"""Statistics built on the tokenizer."""

from textstats.tokens import split_sentences, split_words


def word_count(text):
    return len(split_words(text))


def mean_word_length(text, digits=2):
    words = split_words(text)
    if not words:
        return 0.0
    return round(sum(len(word) for word in words) / len(words), digits)


def longest_word(text):
    """The longest word; the earliest one wins a tie."""
    best = ""
    for word in split_words(text):
        if len(word) > len(best):
            best = word
    return best


def frequencies(text):
    counts = {}
    for word in split_words(text):
        counts[word] = counts.get(word, 0) + 1
    return counts


def top_words(text, limit=2):
    """The `limit` most frequent words, ties broken alphabetically."""
    counts = frequencies(text)
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    return ranked[:limit]


def words_per_sentence(text):
    sentences = split_sentences(text)
    if not sentences:
        return 0.0
    return round(word_count(text) / len(sentences), 2)


def has_word(text, target, ignore_case=True):
    words = split_words(text) if ignore_case else text.split()
    needle = target.lower() if ignore_case else target
    return needle in words
'''

TEST_TOKENS = """from textstats.tokens import split_sentences, split_words


def test_split_words_strips_punctuation():
    assert split_words("Hello, world! (Again)") == ["hello", "world", "again"]


def test_split_words_empty():
    assert split_words("  ... ") == []


def test_split_sentences():
    assert split_sentences("One two. Three! Four five six?") == ["One two", "Three", "Four five six"]


def test_split_sentences_without_terminator():
    assert split_sentences("Alpha. Beta") == ["Alpha", "Beta"]
"""

TEST_METRICS = """from textstats.metrics import (
    frequencies,
    has_word,
    longest_word,
    mean_word_length,
    top_words,
    word_count,
    words_per_sentence,
)

SAMPLE = "The cat sat. The cat ran far! A dog sat"


def test_word_count():
    assert word_count(SAMPLE) == 10


def test_mean_word_length():
    assert mean_word_length("aa bbbb") == 3.0


def test_mean_word_length_rounding():
    assert mean_word_length("a bb bb") == 1.67


def test_mean_word_length_empty():
    assert mean_word_length("") == 0.0


def test_longest_word():
    assert longest_word("tiny enormous vast gigantic") == "enormous"


def test_longest_word_tie_keeps_first():
    assert longest_word("blue green black") == "green"


def test_frequencies():
    assert frequencies("b a b") == {"b": 2, "a": 1}


def test_top_words():
    assert top_words(SAMPLE) == ["cat", "sat"]


def test_top_words_three():
    assert top_words(SAMPLE, 3) == ["cat", "sat", "the"]


def test_words_per_sentence():
    assert words_per_sentence(SAMPLE) == {=round(10 / 3, 2)=}


def test_has_word():
    assert has_word(SAMPLE, "DOG")


def test_has_word_case_sensitive():
    assert not has_word(SAMPLE, "the", ignore_case=False)
"""

TEMPLATE = ProgramTemplate(
    name="text_stats",
    files={
        "textstats/__init__.py": '"""Text statistics."""\n',
        "textstats/tokens.py": TOKENS,
        "textstats/metrics.py": METRICS,
        "tests/test_tokens.py": TEST_TOKENS,
        "tests/test_metrics.py": TEST_METRICS,
    },
    names={
        "textstats": ("wordstats", "prose", "lexis"),
        "tokens": ("tokenize", "splitting"),
        "metrics": ("stats", "measures"),
        "split_words": ("words", "tokenize_words"),
        "split_sentences": ("sentences", "sentence_list"),
        "mean_word_length": ("average_word_length", "avg_length"),
        "longest_word": ("longest", "widest_word"),
        "frequencies": ("word_counts", "tally"),
        "top_words": ("most_common", "frequent_words"),
        "words_per_sentence": ("sentence_length", "mean_sentence_words"),
        "has_word": ("contains_word", "mentions"),
        "PUNCTUATION": ("STRIP_CHARS", "MARKS"),
    },
)
