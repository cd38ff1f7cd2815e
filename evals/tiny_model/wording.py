"""What the expert writes: MiMo XML tool calls exactly as the chat template renders them, and short remarks.

Remarks are optional (about half the turns are a bare call) and drawn from a few phrasings, so the
model learns that text before a call is free while the call itself has one exact form.
"""

from __future__ import annotations

import json
import random
from typing import Any

from mimo_agent.evals.tiny_model.gold import Definition, GoldEdit

SPEAK_SHARE = 0.55

SNIPPET_BEFORE = (
    "Let me reproduce the problem first.",
    "I'll run the example from the issue.",
    "First, reproduce it.",
)
SNIPPET_AFTER = ("Let me run the example from the issue again.", "Checking the example from the issue.")
SEARCH = ("Let me find where `{name}` is defined.", "Looking for `{name}`.", "Where is `{name}` defined?")
READ = ("Let me read `{name}`.", "Reading {path}.", "Let me look at {path}.")
READ_LINES = ("Reading {path}.", "Let me look at {path}.")
EDIT = (
    "Found it: the bug is in `{name}`.",
    "The problem is in `{name}` ({path}, line {line}). Fixing it.",
    "This line in `{name}` is wrong; fixing it.",
)
EDIT_LINES = ("The problem is at {path}, line {line}. Fixing it.", "Fixing line {line} of {path}.")
TESTS = ("Now run the tests.", "Let me run the test suite.", "Running the tests to check the fix.")
FINISH = ("The fix works.", "Done.", "All good.")
SUMMARY = ("Fixed `{name}` in {path}: {change}.", "The bug was in `{name}` ({path}): {change}.")
SUMMARY_LINES = ("Fixed {path}, line {line}: {change}.",)
VERIFIED = (
    " The tests pass.",
    " The test suite passes.",
)
VERIFIED_SNIPPET = (
    " The example from the issue now gives the expected result and the tests pass.",
    " The issue's example works now and the test suite passes.",
)


def tool_call(name: str, **arguments: Any) -> str:
    """One call in MiMo's XML, byte for byte what the chat template writes for it (values verbatim)."""
    body = "".join(
        f"<parameter={key}>{value if isinstance(value, str) else json.dumps(value)}</parameter>\n"
        for key, value in arguments.items()
    )
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def describe_change(edit: GoldEdit) -> str:
    """`replaced X with Y` / `removed X` / `added Y`, from the lines that differ."""
    old = [line.strip() for line in edit.old_string.splitlines()]
    new = [line.strip() for line in edit.new_string.splitlines()]
    removed = [line for line in old if line not in new]
    added = [line for line in new if line not in old]
    if removed and added:
        return f"replaced `{removed[0]}` with `{added[0]}`"
    if removed:
        return f"removed `{removed[0]}`"
    return f"added `{added[0]}`" if added else "fixed the code"


class Wording:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _maybe(self, phrasings: tuple[str, ...], **fields: Any) -> str:
        """A remark (ending in a newline before the call) or nothing."""
        if self.rng.random() >= SPEAK_SHARE:
            return ""
        return self.rng.choice(phrasings).format(**fields) + "\n"

    def before_snippet(self, before_fix: bool) -> str:
        return self._maybe(SNIPPET_BEFORE if before_fix else SNIPPET_AFTER)

    def before_search(self, name: str) -> str:
        return self._maybe(SEARCH, name=name)

    def before_read(self, path: str, name: str) -> str:
        return self._maybe(READ if name else READ_LINES, path=path, name=name)

    def before_edit(self, edit: GoldEdit, site: Definition | None) -> str:
        if site is None:
            return self._maybe(EDIT_LINES, path=edit.path, line=edit.line)
        return self._maybe(EDIT, name=site.name, path=edit.path, line=edit.line)

    def before_tests(self) -> str:
        return self._maybe(TESTS)

    def before_finish(self) -> str:
        return self._maybe(FINISH)

    def summary(self, edits: list[GoldEdit], site: Definition | None, example_checked: bool) -> str:
        edit = edits[0]
        change = "; ".join(describe_change(e) for e in edits)
        if site is None:
            text = self.rng.choice(SUMMARY_LINES).format(path=edit.path, line=edit.line, change=change)
        else:
            text = self.rng.choice(SUMMARY).format(name=site.name, path=edit.path, change=change)
        return text + self.rng.choice(VERIFIED_SNIPPET if example_checked else VERIFIED)
