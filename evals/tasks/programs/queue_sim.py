"""A ticket queue and a single-server queue simulation."""

from mimo_agent.evals.tasks.template import ProgramTemplate

QUEUE = '''"""First-come first-served ticket queue."""


class TicketQueue:
    def __init__(self, capacity={=capacity=}):
        self.capacity = capacity
        self.waiting = []

    def join(self, person):
        """Add `person` at the back; False when the queue is full or they already wait."""
        if len(self.waiting) >= self.capacity or person in self.waiting:
            return False
        self.waiting.append(person)
        return True

    def serve(self):
        if not self.waiting:
            raise IndexError("queue is empty")
        return self.waiting.pop(0)

    def position(self, person):
        """1-based place in the queue, 0 when not waiting."""
        for index, name in enumerate(self.waiting):
            if name == person:
                return index + 1
        return 0

    def size(self):
        return len(self.waiting)

    def is_full(self):
        return len(self.waiting) == self.capacity
'''

SIM = '''"""Single-server queue: customers arrive at given minutes and each needs `service` minutes."""


def waiting_times(arrivals, service):
    """Minutes each customer waits before being served, in arrival order."""
    waits = []
    free_at = 0
    for arrival in sorted(arrivals):
        start = max(arrival, free_at)
        waits.append(start - arrival)
        free_at = start + service
    return waits


def average_wait(waits):
    if not waits:
        return 0.0
    return round(sum(waits) / len(waits), 2)


def longest_wait(waits):
    return max(waits, default=0)


def served_by(arrivals, service, deadline):
    """How many customers have finished by minute `deadline`."""
    finished = 0
    for arrival, wait in zip(sorted(arrivals), waiting_times(arrivals, service)):
        if arrival + wait + service <= deadline:
            finished += 1
    return finished
'''

TEST_QUEUE = """import pytest

from queuesim.queue import TicketQueue


def test_join_and_size():
    queue = TicketQueue()
    assert queue.join("ann")
    assert queue.join("bob")
    assert queue.size() == 2


def test_join_twice_refused():
    queue = TicketQueue()
    queue.join("ann")
    assert not queue.join("ann")


def test_capacity():
    queue = TicketQueue(capacity=2)
    queue.join("ann")
    queue.join("bob")
    assert queue.is_full()
    assert not queue.join("cid")


def test_default_capacity():
    queue = TicketQueue()
    for number in range({=capacity=}):
        queue.join("p" + str(number))
    assert queue.is_full()


def test_serve_order():
    queue = TicketQueue()
    queue.join("ann")
    queue.join("bob")
    assert queue.serve() == "ann"
    assert queue.serve() == "bob"


def test_serve_empty():
    queue = TicketQueue()
    with pytest.raises(IndexError):
        queue.serve()


def test_position():
    queue = TicketQueue()
    queue.join("ann")
    queue.join("bob")
    queue.join("cid")
    assert queue.position("cid") == 3


def test_position_absent():
    assert TicketQueue().position("zed") == 0
"""

TEST_SIM = """from queuesim.sim import average_wait, longest_wait, served_by, waiting_times


def test_no_waiting_when_spread_out():
    assert waiting_times([0, 10, 20], 5) == [0, 0, 0]


def test_waiting_when_crowded():
    assert waiting_times([0, 1, 2], 4) == [0, 3, 6]


def test_waiting_unsorted_arrivals():
    assert waiting_times([5, 0], 3) == [0, 0]


def test_average_wait():
    assert average_wait([0, 3, 6, 2]) == 2.75


def test_average_wait_empty():
    assert average_wait([]) == 0.0


def test_longest_wait():
    assert longest_wait([0, 3, 6, 2]) == 6


def test_served_by():
    assert served_by([0, 1, 2], 4, 8) == 2


def test_served_by_exact_deadline():
    assert served_by([0, 1, 2], 4, 12) == 3
"""

TEMPLATE = ProgramTemplate(
    name="queue_sim",
    files={
        "queuesim/__init__.py": '"""Queues and their simulation."""\n',
        "queuesim/queue.py": QUEUE,
        "queuesim/sim.py": SIM,
        "tests/test_queue.py": TEST_QUEUE,
        "tests/test_sim.py": TEST_SIM,
    },
    names={
        "queuesim": ("waitline", "servicedesk", "lineup"),
        "sim": ("simulate", "model"),
        "TicketQueue": ("Line", "WaitingLine", "Counter"),
        "waiting": ("people", "line"),
        "join": ("enqueue", "arrive"),
        "serve": ("next_customer", "dequeue"),
        "position": ("place_of", "rank"),
        "is_full": ("full", "at_capacity"),
        "waiting_times": ("waits_for", "compute_waits"),
        "average_wait": ("mean_wait", "avg_wait"),
        "longest_wait": ("max_wait", "worst_wait"),
        "served_by": ("finished_by", "completed_before"),
    },
    constants={"capacity": (5, 8, 10)},
)
