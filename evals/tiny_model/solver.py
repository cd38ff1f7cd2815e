"""The expert's strategy for one task: reproduce, locate, read, fix, verify, finish, with varied paths.

Searches start from what the issue names (the called function, the imported module); the fix comes
from the gold patch as `edit` calls. Each step checks the observation it gets back before going on,
so a trajectory only continues while the real tools behave as the expert expects.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from mimo_agent.evals.tiny_model.expert import ExpertError, Script
from mimo_agent.evals.tiny_model.gold import Definition, GoldEdit, definitions, enclosing_definition
from mimo_agent.evals.tiny_model.issue import IssueFacts, read_issue
from mimo_agent.evals.tiny_model.wording import Wording, tool_call

_GREP_HIT = re.compile(r"^([^:\n]+):(\d+):", re.MULTILINE)
_PASSED = re.compile(r"\b\d+ passed\b")
WHOLE_FILE_LINES = 90  # files up to this long are sometimes read whole


@dataclass(frozen=True)
class Case:
    """A task as the expert sees it: the issue, the repository's files and the gold fix."""

    issue: str
    files: dict[str, str]  # path -> text at the base commit
    edits: list[GoldEdit]


class Solver:
    def __init__(self, case: Case, rng: random.Random) -> None:
        self.case = case
        self.rng = rng
        self.say = Wording(rng)
        self.facts: IssueFacts = read_issue(case.issue)
        self.shown: dict[str, list[tuple[int, int]]] = {}  # path -> line ranges the model has read
        self.example_checked = False  # the issue's example was run after the fix

    def script(self) -> Script:
        facts, edits = self.facts, self.case.edits
        sites = [enclosing_definition(self.case.files[e.path], e.line) for e in edits]
        symptom = self._symptom(sites[0])
        if facts.snippet and self.rng.random() < 0.4:
            yield from self._run_snippet(before_fix=True)
        if symptom is not None:
            path, definition = yield from self._locate(*symptom)
            yield from self._read(path, definition)
        for edit, site in zip(edits, sites, strict=True):
            if not self._was_shown(edit):
                yield from self._reach(edit, site)
            observations = yield self.say.before_edit(edit, site) + tool_call(
                "edit", path=edit.path, old_string=edit.old_string, new_string=edit.new_string
            )
            _expect(observations, f"Edited {edit.path}", "edit")
        checks = ["tests", "snippet"] if facts.snippet and self.rng.random() < 0.5 else ["tests"]
        self.rng.shuffle(checks)
        for check in checks:
            if check == "tests":
                yield from self._run_tests()
            else:
                yield from self._run_snippet(before_fix=False)
        summary = self.say.summary(edits, sites[0], self.example_checked)
        yield self.say.before_finish() + tool_call("finish", summary=summary)

    # -- steps ---------------------------------------------------------------------------------------
    def _symptom(self, bug: Definition | None) -> tuple[str, str | None] | None:
        """(function the issue calls that the source defines, its preferred file), else the bug's function."""
        for name in self.facts.calls:
            found = self._definitions(name)
            if found:
                paths = [path for path, _ in found]
                return name, self.facts.module_path if self.facts.module_path in paths else paths[0]
        return (bug.name, self.case.edits[0].path) if bug is not None else None

    def _run_snippet(self, before_fix: bool) -> Script:
        assert self.facts.snippet is not None
        command = f"python - <<'EOF'\n{self.facts.snippet}\nEOF"
        observations = yield self.say.before_snippet(before_fix) + tool_call("bash", command=command)
        _expect(observations, "[exit code", "bash")
        self.example_checked = self.example_checked or not before_fix

    def _locate(self, name: str, preferred: str | None) -> Script:
        """Find where `name` is defined (grep, repo map, or straight to the imported module)."""
        found = dict(self._definitions(name))
        path = preferred if preferred in found else sorted(found)[0]
        ways = ["grep", "grep", "repo_map"]
        if self.facts.module_path == path:
            ways.append("direct")
        way = self.rng.choice(ways)
        if way == "grep":
            arguments = {"pattern": self.rng.choice((f"def {name}\\b", f"def {name}\\b", f"def {name}\\("))}
            if self.rng.random() < 0.3:
                arguments["glob"] = "*.py"
            observations = yield self.say.before_search(name) + tool_call("grep", **arguments)
            hits = [hit for hit in _GREP_HIT.findall(observations[0]) if hit[0] == path]
            if not hits:
                raise ExpertError(f"grep for {name} did not show {path}: {observations[0][:300]!r}")
        elif way == "repo_map":
            observations = yield self.say.before_search(name) + tool_call("repo_map", focus=name)
            if _map_path(observations[0], name) != path:
                raise ExpertError(f"the repo map for {name} did not show it in {path}")
        return path, found[path]

    def _read(self, path: str, definition: Definition) -> Script:
        length = self.case.files[path].count("\n") + 1
        if length <= WHOLE_FILE_LINES and self.rng.random() < 0.5:
            start, end = 1, length
            call = tool_call("read_file", path=path)
        else:
            start = max(1, definition.start - self.rng.choice((0, 1, 2, 4)))
            end = min(length, definition.end + self.rng.choice((1, 2, 4, 8)))
            call = tool_call("read_file", path=path, start_line=start, end_line=end)
        observations = yield self.say.before_read(path, definition.name) + call
        if len(observations) != 1 or not re.search(
            rf"^ *{definition.start}\t", observations[0], re.MULTILINE
        ):
            raise ExpertError(
                f"read_file of {path} did not show line {definition.start}: {observations[:1]!r:.300}"
            )
        self.shown.setdefault(path, []).append((start, end))

    def _reach(self, edit: GoldEdit, site: Definition | None) -> Script:
        """Show the lines `edit` changes: the function around them (found first if in a new file), or the lines."""
        if site is not None:
            if edit.path not in self.shown:
                yield from self._locate(site.name, edit.path)
            yield from self._read(edit.path, site)
        else:
            last = edit.line + edit.old_string.count("\n")
            yield from self._read(edit.path, Definition("", max(1, edit.line - 3), last + 3))
        if not self._was_shown(edit):
            raise ExpertError(f"the expert read {edit.path} but not line {edit.line}")

    def _run_tests(self) -> Script:
        command = self.rng.choice(("python -m pytest -q", "python -m pytest -q", "python -m pytest -q tests"))
        observations = yield self.say.before_tests() + tool_call("bash", command=command)
        if (
            not _PASSED.search(observations[0])
            or "failed" in observations[0]
            or "[exit code 0]" not in observations[0]
        ):
            raise ExpertError(f"the tests did not pass after the fix: {observations[0][-400:]!r}")

    # -- facts ---------------------------------------------------------------------------------------
    def _definitions(self, name: str) -> list[tuple[str, Definition]]:
        return [(p, d) for p, d in definitions(self.case.files, name) if not p.startswith("tests/")]

    def _was_shown(self, edit: GoldEdit) -> bool:
        first, last = edit.line, edit.line + edit.old_string.count("\n")
        return any(start <= first and last <= end for start, end in self.shown.get(edit.path, []))


def _expect(observations: list[str], needle: str, tool: str) -> None:
    if len(observations) != 1 or needle not in observations[0]:
        seen = observations[0][:300] if observations else "nothing"
        raise ExpertError(f"{tool} did not answer as expected ({needle!r} missing): {seen!r}")


def _map_path(repo_map: str, name: str) -> str | None:
    """The file a repo map lists `name`'s definition under (file headers are unindented `path:` lines)."""
    current = None
    for line in repo_map.splitlines():
        if line.endswith(":") and not line[:1].isspace() and "│" not in line:
            current = line[:-1]
        elif re.search(rf"│\s*(?:async\s+)?def {re.escape(name)}\b", line):
            return current
    return None
