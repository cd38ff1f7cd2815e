"""A to-do list with priorities and a text rendering."""

from mimo_agent.evals.tasks.template import ProgramTemplate

ITEMS = '''"""Tasks with an id, a title, a priority (1 = most urgent) and a done flag."""

DEFAULT_PRIORITY = {=priority=}


class TodoList:
    def __init__(self):
        self.entries = []
        self.next_id = 1

    def add(self, title, priority=DEFAULT_PRIORITY):
        if not title.strip():
            raise ValueError("title must not be empty")
        entry = {"id": self.next_id, "title": title, "priority": priority, "done": False}
        self.entries.append(entry)
        self.next_id += 1
        return entry["id"]

    def find(self, entry_id):
        for entry in self.entries:
            if entry["id"] == entry_id:
                return entry
        raise KeyError(entry_id)

    def complete(self, entry_id):
        self.find(entry_id)["done"] = True

    def pending(self):
        """Titles not done yet, most urgent first, then in order added."""
        {% open_entries = [e for e in self.entries if not e["done"]] || open_entries = []
        for e in self.entries:
            if not e["done"]:
                open_entries.append(e) %}
        open_entries.sort(key=lambda e: e["priority"])
        return [e["title"] for e in open_entries]

    def purge_done(self):
        """Drop finished entries; returns how many were dropped."""
        before = len(self.entries)
        self.entries = [e for e in self.entries if not e["done"]]
        return before - len(self.entries)
'''

FORMAT = '''"""Plain-text views of a list's entries."""


def render(entries, width=20):
    """One line per entry: '[x] title' or '[ ] title', titles cut to `width` characters."""
    lines = []
    for entry in entries:
        mark = "x" if entry["done"] else " "
        lines.append("[" + mark + "] " + entry["title"][:width])
    return "\\n".join(lines)


def progress(entries):
    done = sum(1 for entry in entries if entry["done"])
    return str(done) + "/" + str(len(entries)) + " done"


def urgent(entries, cutoff=1):
    """Titles of open entries with priority at or below `cutoff`."""
    return [e["title"] for e in entries if e["priority"] <= cutoff and not e["done"]]
'''

TEST_ITEMS = """import pytest

from todo.items import TodoList


def test_add_returns_ids():
    todo = TodoList()
    assert todo.add("write") == 1
    assert todo.add("read") == 2


def test_add_rejects_blank():
    todo = TodoList()
    with pytest.raises(ValueError):
        todo.add("   ")


def test_default_priority():
    todo = TodoList()
    todo.add("write")
    assert todo.find(1)["priority"] == {=priority=}


def test_find_missing():
    with pytest.raises(KeyError):
        TodoList().find(3)


def test_pending_order():
    todo = TodoList()
    todo.add("low", 3)
    todo.add("high", 1)
    todo.add("also high", 1)
    assert todo.pending() == ["high", "also high", "low"]


def test_complete_hides_from_pending():
    todo = TodoList()
    todo.add("a", 1)
    todo.add("b", 2)
    todo.complete(1)
    assert todo.pending() == ["b"]


def test_purge_done():
    todo = TodoList()
    todo.add("a")
    todo.add("b")
    todo.add("c")
    todo.complete(2)
    assert todo.purge_done() == 1
    assert todo.pending() == ["a", "c"]
"""

TEST_FORMAT = """from todo.format import progress, render, urgent

ENTRIES = [
    {"id": 1, "title": "pay the electricity bill", "priority": 1, "done": True},
    {"id": 2, "title": "call mum", "priority": 2, "done": False},
    {"id": 3, "title": "book dentist", "priority": 1, "done": False},
]


def test_render():
    assert render(ENTRIES[1:]) == "[ ] call mum\\n[ ] book dentist"


def test_render_cuts_titles():
    assert render(ENTRIES[:1], width=8) == "[x] pay the "


def test_render_default_width():
    assert render(ENTRIES[:1]) == "[x] pay the electricity "


def test_progress():
    assert progress(ENTRIES) == "1/3 done"


def test_urgent():
    assert urgent(ENTRIES) == ["book dentist"]


def test_urgent_cutoff():
    assert urgent(ENTRIES, cutoff=2) == ["call mum", "book dentist"]
"""

TEMPLATE = ProgramTemplate(
    name="todo_list",
    files={
        "todo/__init__.py": '"""To-do lists."""\n',
        "todo/items.py": ITEMS,
        "todo/format.py": FORMAT,
        "tests/test_items.py": TEST_ITEMS,
        "tests/test_format.py": TEST_FORMAT,
    },
    names={
        "todo": ("tasks", "checklist", "agenda"),
        "items": ("board", "tracker"),
        "format": ("views", "display"),
        "TodoList": ("Checklist", "TaskBoard", "Agenda"),
        "entries": ("tasks_list", "records"),
        "next_id": ("counter", "last_id"),
        "complete": ("mark_done", "finish"),
        "pending": ("open_titles", "remaining"),
        "purge_done": ("clear_done", "drop_finished"),
        "render": ("as_text", "show"),
        "progress": ("status_line", "done_ratio"),
        "urgent": ("most_urgent", "top_priority"),
        "DEFAULT_PRIORITY": ("NORMAL", "STANDARD_PRIORITY"),
    },
    constants={"priority": (2, 3, 5)},
)
