"""Which files a search sees: `git ls-files` in a repository (so .gitignore holds), else a pruned walk.

Symlinks are followed only when they stay inside the workspace. Glob patterns support `**`, `*`, `?`,
`[...]` and `{a,b}`; a pattern without `/` matches file names at any depth.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from mimo_agent.tools.paths import Workspace

SKIP_DIRS = frozenset(
    """.git .hg .svn node_modules .venv venv __pycache__ .mypy_cache .pytest_cache .ruff_cache
    .tox""".split()  # noqa: SIM905 (a word list reads better than one name per line)
)
GIT_TIMEOUT_S = 30.0


class GlobPatternError(ValueError):
    """A glob pattern is malformed or tries to leave the searched folder."""


def list_files(workspace: Workspace, base: Path) -> Iterator[Path]:
    """Real paths of the files under `base` (a directory inside the workspace), ignored files left out."""
    names = _git_files(base)
    if names is None:
        yield from _walk(workspace, base)
        return
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        path = base / name
        if path.is_symlink():
            real = Path(os.path.realpath(path))
            if not workspace.contains(real) or not real.is_file():
                continue
        elif not path.is_file():
            continue
        yield path


def _git_files(base: Path) -> list[str] | None:
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=base,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [name for name in proc.stdout.decode("utf-8", errors="surrogateescape").split("\0") if name]


def _walk(workspace: Workspace, base: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d))
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink():
                real = Path(os.path.realpath(path))
                if not workspace.contains(real) or not real.is_file():
                    continue
            yield path


@lru_cache(maxsize=128)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching workspace-relative POSIX paths for `pattern`; raises GlobPatternError."""
    if not pattern or "\0" in pattern:
        raise GlobPatternError(f"glob pattern {pattern!r} is empty or contains a NUL byte")
    if pattern.startswith(("/", "~")) or ".." in pattern.split("/"):
        raise GlobPatternError(
            f"glob pattern {pattern!r} must be relative to the searched folder (no leading '/', '~' or '..'); "
            "use the path argument to choose the folder"
        )
    body = _translate(pattern)
    if "/" not in pattern:
        body = r"(?:.*/)?" + body
    return re.compile(rf"\A{body}\Z", re.DOTALL)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(r".*")
            i += 2
            continue
        if c == "*":
            out.append(r"[^/]*")
        elif c == "?":
            out.append(r"[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
            else:
                inner = pattern[i + 1 : end]
                inner = "^" + inner[1:] if inner.startswith("!") else inner
                out.append(f"[{inner.replace(chr(92), chr(92) * 2)}]")
                i = end
        elif c == "{":
            end = pattern.find("}", i)
            if end == -1:
                out.append(re.escape(c))
            else:
                options = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(_translate(option) for option in options) + ")")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
