"""`@path` mentions: completion against the workspace's files, and attaching their content to a message."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

MENTION_RE = re.compile(r"(?:(?<=\s)|^)@([\w./\-]+)")
MAX_ATTACH_CHARS = 50_000
MAX_CANDIDATES = 50


class MentionError(ValueError):
    """A mentioned path that is outside the workspace, missing, a folder or not text."""


@dataclass(frozen=True)
class Attachment:
    path: str
    text: str


def workspace_files(workspace: Path) -> list[str]:
    """Files git knows (tracked and untracked, not ignored); a plain walk outside a repository."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if proc.returncode == 0:
            return sorted(set(proc.stdout.splitlines()))
    except (OSError, subprocess.TimeoutExpired):
        pass
    found = []
    for folder, dirs, files in os.walk(workspace):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.relpath(os.path.join(folder, f), workspace) for f in files]
    return sorted(found)


def mention_at(text: str, cursor: int) -> str | None:
    """The partial mention ending at `cursor` (without the @), or None when the cursor is not in one."""
    match = re.search(r"(?:(?<=\s)|^)@([\w./\-]*)$", text[:cursor])
    return match.group(1) if match else None


def complete(prefix: str, files: list[str]) -> tuple[str, list[str]]:
    """The longest common completion of `prefix` and the candidates it matches (capped)."""
    candidates = [f for f in files if f.startswith(prefix)]
    if not candidates:
        lowered = prefix.lower()
        candidates = [f for f in files if lowered in f.lower()]
        return (candidates[0] if len(candidates) == 1 else prefix), candidates[:MAX_CANDIDATES]
    return os.path.commonprefix(candidates), candidates[:MAX_CANDIDATES]


def attachments(text: str, workspace: Path) -> list[Attachment]:
    """The files `text` mentions, read from inside `workspace`; raises MentionError naming the bad one."""
    root = workspace.resolve()
    found: list[Attachment] = []
    for name in dict.fromkeys(MENTION_RE.findall(text)):
        path = (root / name).resolve()
        if path != root and root not in path.parents:
            raise MentionError(f"@{name}: outside the workspace {root}")
        if not path.is_file():
            raise MentionError(f"@{name}: no such file in {root}")
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            raise MentionError(f"@{name}: a binary file; mention text files only")
        content = data.decode("utf-8", errors="replace")
        if len(content) > MAX_ATTACH_CHARS:
            content = content[:MAX_ATTACH_CHARS] + f"\n[… cut at {MAX_ATTACH_CHARS} characters]"
        found.append(Attachment(name, content))
    return found


def with_attachments(text: str, files: list[Attachment]) -> str:
    """The message the model sees: the user's text, then each mentioned file in a tagged block."""
    blocks = [f'<file path="{a.path}">\n{a.text.rstrip()}\n</file>' for a in files]
    return "\n\n".join([text, *blocks])
