"""Find a verified bug for one template: render, plant, run the tests, observe the symptom, write the issue.

A candidate is kept only when the clean program passes every test, the buggy one fails at least one and
still passes at least one, the probe shows a user-visible symptom, and the issue text quotes no changed
line. Anything else is discarded and another candidate drawn.
"""

from __future__ import annotations

import ast
import difflib
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mimo_agent.evals.tasks.issue_text import write_issue
from mimo_agent.evals.tasks.probe import ProbeError, Symptom, observe
from mimo_agent.evals.tasks.repo import support_files, write_files
from mimo_agent.evals.tasks.runner import run_tests
from mimo_agent.evals.tasks.sites import Site, find_sites, plant
from mimo_agent.evals.tasks.splits import placement_split
from mimo_agent.evals.tasks.template import Program, ProgramTemplate, render

PASSED = "PASSED"


class TemplateBroken(RuntimeError):
    """A rendered template fails its own tests before any bug is planted (a bug in the template)."""


@dataclass(frozen=True)
class Task:
    """A verified bug: the program, where the bug is, the buggy module text and what the tests say."""

    program: Program
    site: Site
    placement: str
    buggy: str
    fail_to_pass: list[str]
    pass_to_pass: list[str]
    symptom: Symptom
    problem_statement: str

    @property
    def buggy_files(self) -> dict[str, str]:
        return {**self.program.files, self.site.path: self.buggy}


@dataclass
class SearchStats:
    test_runs: int = 0
    seconds: float = 0.0
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, why: str) -> None:
        self.rejected[why] = self.rejected.get(why, 0) + 1


def find_task(
    template: ProgramTemplate, kinds: list[str], split: str, rng: random.Random, stats: SearchStats
) -> Task | None:
    """A verified bug of the first of `kinds` that yields one, in a fresh variant of `template`."""
    program = render(template, rng)
    with Workbench.open(program, stats) as bench:
        return bench.search(kinds, lambda f: placement_split(template.name, f) == split, rng)


class Workbench:
    """A rendered program in a scratch folder whose clean run passed; bugs are planted and tried in place."""

    def __init__(self, program: Program, root: Path, tests: list[str], stats: SearchStats) -> None:
        self.program = program
        self.root = root
        self.tests = tests
        self.stats = stats

    @classmethod
    @contextmanager
    def open(cls, program: Program, stats: SearchStats) -> Iterator[Workbench]:
        with tempfile.TemporaryDirectory(prefix="mimo-task-") as tmp:
            root = Path(tmp)
            write_files(root, {**support_files(program.package), **program.files})
            bench = cls(program, root, [], stats)
            clean = bench.run()
            if not clean or any(status != PASSED for status in clean.values()):
                raise TemplateBroken(f"{program.template}: clean program does not pass its tests: {clean}")
            bench.tests = sorted(clean)
            yield bench

    def search(
        self, kinds: list[str], allowed: Callable[[str], bool], rng: random.Random, max_candidates: int = 8
    ) -> Task | None:
        """Try `kinds` in order, up to `max_candidates` random sites each."""
        for kind in kinds:
            sites = find_sites(self.program, [kind], allowed)
            rng.shuffle(sites)
            for site in sites[:max_candidates]:
                task = self.attempt(site, rng)
                if task is not None:
                    return task
        return None

    def attempt(self, site: Site, rng: random.Random) -> Task | None:
        """The verified task for the bug at `site`, or None (the reason is counted in the stats)."""
        clean_text = self.program.files[site.path]
        buggy = plant(self.program, site)
        if buggy is None or ast.dump(ast.parse(buggy)) == ast.dump(ast.parse(clean_text)):
            self.stats.reject("no faithful splice")
            return None
        (self.root / site.path).write_text(buggy)
        try:
            statuses = self.run()
            failing = [t for t in self.tests if statuses.get(t) != PASSED]
            passing = [t for t in self.tests if statuses.get(t) == PASSED]
            if not failing or not passing:
                self.stats.reject("no failing test" if not failing else "no passing test")
                return None
            symptom = _symptom(self.root, self.program, failing, rng)
        finally:
            (self.root / site.path).write_text(clean_text)
        if symptom is None:
            self.stats.reject("no visible symptom")
            return None
        issue = write_issue(symptom, self.program.package, rng)
        if any(line in issue for line in changed_lines(clean_text, buggy)):
            self.stats.reject("issue quotes the changed code")
            return None
        placement = self.program.canonical_name(site.dotted())
        return Task(self.program, site, placement, buggy, failing, passing, symptom, issue)

    def run(self) -> dict[str, str]:
        """Statuses of every test in the folder as it is now ({} on a timeout)."""
        start = time.monotonic()
        statuses, outcome = run_tests(self.root, sorted(self.program.tests))
        self.stats.test_runs += 1
        self.stats.seconds += time.monotonic() - start
        return {} if outcome.timed_out else statuses


def _symptom(root: Path, program: Program, failing: list[str], rng: random.Random) -> Symptom | None:
    for node_id in rng.sample(failing, len(failing)):
        path, name = node_id.split("::")
        try:
            return observe(root, program.files[path], name)
        except ProbeError:
            continue
    return None


def changed_lines(before: str, after: str) -> list[str]:
    """Stripped lines that differ between two versions of a module (the code an issue must not quote)."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [
        line[1:].strip()
        for line in diff
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
    ]
