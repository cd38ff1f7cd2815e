"""A library: a catalogue of copies and a loan desk with due dates and fines."""

from mimo_agent.evals.tasks.template import ProgramTemplate

CATALOG = '''"""Books by ISBN with a number of copies."""


class Catalog:
    def __init__(self):
        self.books = {}

    def add_book(self, isbn, title, copies=1):
        if copies < 1:
            raise ValueError("copies must be at least 1")
        if isbn in self.books:
            self.books[isbn]["copies"] += copies
        else:
            self.books[isbn] = {"title": title, "copies": copies, "on_loan": 0}

    def available(self, isbn):
        book = self.books[isbn]
        return book["copies"] - book["on_loan"]

    def search(self, words):
        """ISBNs whose title contains every word (case-insensitive), sorted."""
        wanted = words.lower().split()
        {% return sorted(isbn for isbn, book in self.books.items() if all(w in book["title"].lower() for w in wanted)) || hits = []
        for isbn, book in self.books.items():
            if all(w in book["title"].lower() for w in wanted):
                hits.append(isbn)
        return sorted(hits) %}
'''

LOANS = '''"""Lending copies to members."""

LOAN_DAYS = {=loan_days=}
MAX_LOANS = {=max_loans=}
DAILY_FINE = 0.25


class LoanDesk:
    def __init__(self, catalog):
        self.catalog = catalog
        self.loans = []

    def member_loans(self, member):
        return [loan for loan in self.loans if loan["member"] == member]

    def checkout(self, member, isbn, day):
        """Lend one copy; returns the due day."""
        if self.catalog.available(isbn) <= 0:
            raise ValueError("no copy available")
        if len(self.member_loans(member)) >= MAX_LOANS:
            raise ValueError("loan limit reached")
        self.catalog.books[isbn]["on_loan"] += 1
        due = day + LOAN_DAYS
        self.loans.append({"member": member, "isbn": isbn, "due": due})
        return due

    def give_back(self, member, isbn, day):
        """Return a copy; returns the fine for late days."""
        for index, loan in enumerate(self.loans):
            if loan["member"] == member and loan["isbn"] == isbn:
                del self.loans[index]
                self.catalog.books[isbn]["on_loan"] -= 1
                return late_fee(day - loan["due"])
        raise KeyError((member, isbn))

    def overdue(self, day):
        """Members with a loan past its due day, sorted, each once."""
        return sorted({loan["member"] for loan in self.loans if day > loan["due"]})


def late_fee(days_late, cap=5.0):
    if days_late <= 0:
        return 0.0
    return min(days_late * DAILY_FINE, cap)
'''

TEST_CATALOG = """import pytest

from library.catalog import Catalog


def test_add_and_available():
    catalog = Catalog()
    catalog.add_book("111", "Dune", 2)
    assert catalog.available("111") == 2


def test_add_more_copies():
    catalog = Catalog()
    catalog.add_book("111", "Dune")
    catalog.add_book("111", "Dune", 3)
    assert catalog.available("111") == 4


def test_add_rejects_zero_copies():
    catalog = Catalog()
    with pytest.raises(ValueError):
        catalog.add_book("111", "Dune", 0)


def test_search():
    catalog = Catalog()
    catalog.add_book("2", "The Hobbit")
    catalog.add_book("1", "The Silmarillion")
    catalog.add_book("3", "Dune")
    assert catalog.search("the") == ["1", "2"]


def test_search_all_words():
    catalog = Catalog()
    catalog.add_book("2", "The Hobbit")
    catalog.add_book("1", "The Silmarillion")
    assert catalog.search("HOBBIT the") == ["2"]
"""

TEST_LOANS = """import pytest

from library.catalog import Catalog
from library.loans import LoanDesk, late_fee


def test_checkout_due_day():
    catalog = Catalog()
    catalog.add_book("111", "Dune")
    desk = LoanDesk(catalog)
    assert desk.checkout("ann", "111", 10) == {=10 + loan_days=}
    assert catalog.available("111") == 0


def test_checkout_unavailable():
    catalog = Catalog()
    catalog.add_book("111", "Dune")
    desk = LoanDesk(catalog)
    desk.checkout("ann", "111", 1)
    with pytest.raises(ValueError):
        desk.checkout("bob", "111", 2)


def test_loan_limit():
    catalog = Catalog()
    catalog.add_book("111", "Dune", 10)
    desk = LoanDesk(catalog)
    for day in range({=max_loans=}):
        desk.checkout("ann", "111", day)
    with pytest.raises(ValueError):
        desk.checkout("ann", "111", 9)


def test_give_back_on_time():
    catalog = Catalog()
    catalog.add_book("111", "Dune")
    desk = LoanDesk(catalog)
    due = desk.checkout("ann", "111", 0)
    assert desk.give_back("ann", "111", due) == 0.0
    assert catalog.available("111") == 1


def test_give_back_late():
    catalog = Catalog()
    catalog.add_book("111", "Dune")
    desk = LoanDesk(catalog)
    due = desk.checkout("ann", "111", 0)
    assert desk.give_back("ann", "111", due + 3) == 0.75


def test_give_back_unknown():
    desk = LoanDesk(Catalog())
    with pytest.raises(KeyError):
        desk.give_back("ann", "111", 5)


def test_overdue():
    catalog = Catalog()
    catalog.add_book("111", "Dune", 3)
    desk = LoanDesk(catalog)
    desk.checkout("cid", "111", 0)
    desk.checkout("ann", "111", 0)
    desk.checkout("bob", "111", 5)
    assert desk.overdue({=loan_days + 1=}) == ["ann", "cid"]


def test_late_fee_cap():
    assert late_fee(100) == 5.0
    assert late_fee(100, cap=2.0) == 2.0


def test_late_fee_not_late():
    assert late_fee(-2) == 0.0
"""

TEMPLATE = ProgramTemplate(
    name="library_loans",
    files={
        "library/__init__.py": '"""Library lending."""\n',
        "library/catalog.py": CATALOG,
        "library/loans.py": LOANS,
        "tests/test_catalog.py": TEST_CATALOG,
        "tests/test_loans.py": TEST_LOANS,
    },
    names={
        "library": ("lending", "bookshelf", "libsys"),
        "catalog": ("holdings", "collection"),
        "loans": ("circulation", "lending_desk"),
        "Catalog": ("Holdings", "Collection"),
        "LoanDesk": ("Circulation", "Lender"),
        "books": ("titles", "stock"),
        "add_book": ("register_book", "acquire"),
        "available": ("copies_left", "free_copies"),
        "search": ("find_titles", "lookup"),
        "member_loans": ("loans_of", "borrowed_by"),
        "checkout": ("lend", "borrow"),
        "give_back": ("return_copy", "check_in"),
        "overdue": ("late_members", "overdue_members"),
        "late_fee": ("fine_for", "penalty"),
        "LOAN_DAYS": ("LOAN_PERIOD", "DUE_AFTER"),
        "MAX_LOANS": ("LOAN_LIMIT", "MAX_BORROWED"),
        "DAILY_FINE": ("FINE_PER_DAY", "LATE_RATE"),
    },
    constants={"loan_days": (7, 14, 21), "max_loans": (2, 3, 5)},
)
