"""Suite-wide: Ctrl-C behaves as in a terminal even when the suite itself was started with SIGINT ignored.

A shell without job control starts background commands (`make test &`, nohup) with SIGINT ignored, and
children inherit that: the interrupt tests would then see a process that cannot be interrupted at all.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def interruptible() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
