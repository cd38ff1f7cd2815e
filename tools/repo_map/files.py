"""The source files a repo map covers: what git would track (so .gitignore holds), else a pruned walk."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .languages import language_for

GIT_TIMEOUT_S = 20.0
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        "build",
        "dist",
        "target",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".mimo-agent",
        ".idea",
        ".vscode",
        "vendor",
    }
)


@dataclass(frozen=True)
class SourceFile:
    """A file with a known grammar; `rel` is its POSIX path relative to the workspace root."""

    rel: str
    language: str
    mtime_ns: int
    size: int


def list_source_files(root: Path, max_file_bytes: int) -> list[SourceFile]:
    """Source files under `root` in path order, skipping files larger than `max_file_bytes`."""
    # Git listing nothing at all means the workspace sits in an ignored folder of an enclosing repository
    # (or an empty one): walk it then.
    candidates = _git_files(root) or _walk_files(root)
    files = []
    root_str = str(root)
    real_root = os.path.realpath(root)
    for rel in sorted(set(candidates)):
        language = language_for(rel)
        if language is None:
            continue
        path = os.path.join(root_str, rel)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
                    continue  # never read through a link that leaves the workspace
                st = os.stat(path)
        except OSError:  # listed by git but deleted in the work tree, or a dangling symlink
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size <= max_file_bytes:
            files.append(SourceFile(rel, language, st.st_mtime_ns, st.st_size))
    return files


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, or None when `root` is not in a git work tree."""
    output = _run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    if output is None:
        return None
    return [name for name in output.decode("utf-8", errors="surrogateescape").split("\0") if name]


def _run(command: list[str]) -> bytes | None:
    """stdout of a git command, or None if git is missing, fails or overruns (its process group is killed)."""
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return None
    try:
        out, _ = proc.communicate(timeout=GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    return out if proc.returncode == 0 else None


def _walk_files(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        base = Path(dirpath).relative_to(root)
        found += [(base / name).as_posix() for name in filenames]
    return found
