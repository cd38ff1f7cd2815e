"""Which split a bug belongs to, by program template and by the function the bug is placed in.

Test templates are held out whole: their programs never appear in train or validation. Validation holds
its own templates plus bugs placed in held-out functions of the training templates (a seen program, an
unseen bug site). Everything else is train. The assignment is data, not chance, so it never drifts.
"""

from __future__ import annotations

import hashlib
import random
from functools import cache

from mimo_agent.evals.tasks.bugs import KINDS
from mimo_agent.evals.tasks.programs import TEMPLATES
from mimo_agent.evals.tasks.sites import find_sites
from mimo_agent.evals.tasks.template import render

SPLITS = ("train", "validation", "test")
TEST_TEMPLATES = frozenset({"interval_merge", "library_loans", "polynomial", "temperature_log"})
VALIDATION_TEMPLATES = frozenset({"date_ranges", "todo_list"})
HELD_OUT_FUNCTION_SHARE = 4  # one function in four of each training template goes to validation


class SplitError(ValueError):
    """An unknown split name."""


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise SplitError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    return split


def placement_split(template: str, function: str) -> str:
    """Split of a bug in `function` (canonical dotted name, e.g. `inventory.stock.Stockroom.ship`) of `template`."""
    if template in TEST_TEMPLATES:
        return "test"
    if template in VALIDATION_TEMPLATES:
        return "validation"
    return "validation" if function in held_out_functions(template) else "train"


@cache
def template_functions(template: str) -> tuple[str, ...]:
    """Canonical dotted names of the functions of `template` that can hold a bug (same for every seed)."""
    program = render(TEMPLATES[template], random.Random(0))
    return tuple(
        sorted({program.canonical_name(s.dotted()) for s in find_sites(program, KINDS, lambda _: True)})
    )


@cache
def held_out_functions(template: str) -> frozenset[str]:
    """A fixed quarter of a training template's functions, chosen by hash so adding one moves few others."""
    ranked = sorted(
        template_functions(template), key=lambda f: hashlib.sha256(f"{template}/{f}".encode()).digest()
    )
    return frozenset(ranked[: max(1, len(ranked) // HELD_OUT_FUNCTION_SHARE)])
