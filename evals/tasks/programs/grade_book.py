"""A grade book: scores per student, averages and letter grades."""

from mimo_agent.evals.tasks.template import ProgramTemplate

BOOK = '''"""Scores recorded per student."""

PASS_MARK = {=pass_mark=}


class GradeBook:
    def __init__(self):
        self.scores = {}

    def record(self, student, score):
        if not 0 <= score <= 100:
            raise ValueError("score must be between 0 and 100")
        self.scores.setdefault(student, []).append(score)

    def average(self, student):
        marks = self.scores[student]
        return round(sum(marks) / len(marks), 1)

    def best_student(self):
        """The student with the highest average; None when nobody has scores."""
        best = None
        best_average = -1
        for student in sorted(self.scores):
            current = self.average(student)
            if current > best_average:
                best, best_average = student, current
        return best

    def failing(self, threshold=PASS_MARK):
        """Students whose average is below `threshold`, alphabetically."""
        {% return sorted(s for s in self.scores if self.average(s) < threshold) || names = []
        for student in self.scores:
            if self.average(student) < threshold:
                names.append(student)
        return sorted(names) %}

    def attempts(self, student):
        return len(self.scores.get(student, []))
'''

LETTERS = '''"""Letter grades and curves."""

BOUNDARIES = [(90, "A"), (80, "B"), (70, "C"), (60, "D")]


def letter_for(score):
    for lowest, letter in BOUNDARIES:
        if score >= lowest:
            return letter
    return "F"


def curve(scores, bonus=5, cap=100):
    """Add `bonus` to every score, never above `cap`."""
    return [min(score + bonus, cap) for score in scores]


def distribution(scores):
    counts = {"A": 0, "B": 0, "C": 0, "D": 0, "F": 0}
    for score in scores:
        counts[letter_for(score)] += 1
    return counts


def median(scores):
    ordered = sorted(scores)
    middle = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
'''

TEST_BOOK = """import pytest

from grades.book import GradeBook


def test_average():
    book = GradeBook()
    book.record("ann", 80)
    book.record("ann", 91)
    assert book.average("ann") == 85.5


def test_record_rejects_out_of_range():
    book = GradeBook()
    with pytest.raises(ValueError):
        book.record("ann", 101)


def test_record_accepts_bounds():
    book = GradeBook()
    book.record("ann", 0)
    book.record("ann", 100)
    assert book.attempts("ann") == 2


def test_best_student():
    book = GradeBook()
    book.record("ann", 70)
    book.record("bob", 95)
    book.record("cid", 88)
    assert book.best_student() == "bob"


def test_best_student_empty():
    assert GradeBook().best_student() is None


def test_failing_default_threshold():
    book = GradeBook()
    book.record("ann", {=pass_mark - 1=})
    book.record("bob", {=pass_mark=})
    book.record("cid", 20)
    assert book.failing() == ["ann", "cid"]


def test_failing_custom_threshold():
    book = GradeBook()
    book.record("ann", 75)
    book.record("bob", 85)
    assert book.failing(80) == ["ann"]


def test_attempts_unknown():
    assert GradeBook().attempts("zed") == 0
"""

TEST_LETTERS = """from grades.letters import curve, distribution, letter_for, median


def test_letter_boundaries():
    assert [letter_for(s) for s in (95, 90, 89, 70, 60, 59)] == ["A", "A", "B", "C", "D", "F"]


def test_curve():
    assert curve([50, 97]) == [55, 100]


def test_curve_custom():
    assert curve([50, 60], bonus=10, cap=65) == [60, 65]


def test_distribution():
    assert distribution([91, 85, 40, 99]) == {"A": 2, "B": 1, "C": 0, "D": 0, "F": 1}


def test_median_odd():
    assert median([7, 1, 5]) == 5


def test_median_even():
    assert median([4, 1, 3, 10]) == 3.5
"""

TEMPLATE = ProgramTemplate(
    name="grade_book",
    files={
        "grades/__init__.py": '"""Grade book."""\n',
        "grades/book.py": BOOK,
        "grades/letters.py": LETTERS,
        "tests/test_book.py": TEST_BOOK,
        "tests/test_letters.py": TEST_LETTERS,
    },
    names={
        "grades": ("marks", "gradebook", "school"),
        "book": ("register", "records"),
        "letters": ("scale", "grading"),
        "GradeBook": ("Register", "MarkBook", "Scores"),
        "record": ("add_score", "enter"),
        "best_student": ("top_student", "leader"),
        "failing": ("below_pass", "at_risk"),
        "attempts": ("score_count", "num_scores"),
        "letter_for": ("to_letter", "grade_letter"),
        "curve": ("boost", "curved"),
        "distribution": ("letter_counts", "histogram"),
        "median": ("middle_score", "median_score"),
        "PASS_MARK": ("PASSING", "MIN_PASS"),
        "BOUNDARIES": ("CUTOFFS", "GRADE_TABLE"),
    },
    constants={"pass_mark": (40, 50, 60)},
)
