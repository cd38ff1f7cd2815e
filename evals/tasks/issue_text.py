"""Issue texts in a user's words: what they ran, what they expected, what they got. Never the fix."""

from __future__ import annotations

import random

from mimo_agent.evals.tasks.probe import Symptom

WRONG_VALUE = (
    "`{expr}` returns {actual} instead of {expected}\n\n"
    "When I run this:\n\n```python\n{snippet}\n```\n\nI expect `{expected}`, but I get `{actual}`.\n",
    "Wrong result from `{expr}`\n\n"
    "Hi! I'm using `{package}` and noticed that `{expr}` gives a wrong answer. Minimal example:\n\n"
    "```python\n{snippet}\n```\n\nIt prints `{actual}`; the correct result here is `{expected}`.\n",
    "Unexpected output in {package}\n\n"
    "Steps to reproduce:\n\n```python\n{snippet}\n```\n\n"
    "Expected: `{expected}`\nActual: `{actual}`\n",
    "`{expr}` -> `{actual}` (expected `{expected}`)\n\n"
    "```python\n{snippet}\n```\n\nThis looks like a bug; the result should be `{expected}`.\n",
    "{package}: incorrect value from `{expr}`\n\n"
    "I ran into this while using the library:\n\n```python\n{snippet}\n```\n\n"
    "The output is `{actual}`. From the documentation I would expect `{expected}`.\n",
)
CRASH = (
    "`{expr}` raises {error_type}\n\n"
    "This snippet fails:\n\n```python\n{snippet}\n```\n\nwith\n\n```\n{error}\n```\n\nIt should not raise.\n",
    "Crash in {package} when calling `{expr}`\n\n"
    "Reproduction:\n\n```python\n{snippet}\n```\n\n"
    "Expected: it works without an error.\nActual: `{error}`\n",
    "Unexpected {error_type}\n\n"
    "Hello, the following code raises an exception:\n\n```python\n{snippet}\n```\n\n"
    "```\n{error}\n```\n",
)
NO_ERROR = (
    "`{expr}` does not raise {expected_error}\n\n"
    "```python\n{snippet}\n```\n\n"
    "I expected a `{expected_error}` here, but it returned `{actual}` instead.\n",
    "Missing error for invalid input in {package}\n\n"
    "Running\n\n```python\n{snippet}\n```\n\nsilently gives `{actual}`. It should raise `{expected_error}`.\n",
)


def write_issue(symptom: Symptom, package: str, rng: random.Random) -> str:
    fields = {
        "expr": symptom.expression,
        "package": package,
        "snippet": symptom.snippet,
        "actual": symptom.actual,
        "expected": symptom.expected,
        "error": symptom.error,
        "expected_error": symptom.expected_error,
        "error_type": (symptom.error or "").split(":")[0],
    }
    if symptom.error is not None:
        phrasings = CRASH
    elif symptom.expected_error is not None:
        phrasings = NO_ERROR
    else:
        phrasings = WRONG_VALUE
    return rng.choice(phrasings).format(**fields)
