"""The agent's state folder in the workspace (`.mimo-agent/`): full outputs, caches, trajectories.

It sits inside the workspace so the agent's `read_file` can reach what is saved there, and is listed in
the repository's `.git/info/exclude` so nothing in it ever lands in a patch.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".mimo-agent"


def exclude_state_dir(workspace: Path) -> None:
    """Add the agent's state folder to the repository's local exclude file (once)."""
    exclude = workspace / ".git" / "info" / "exclude"
    if not exclude.parent.is_dir():
        return
    line = f"/{STATE_DIR}/"
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if line not in existing.splitlines():
        with exclude.open("a", encoding="utf-8") as fh:
            fh.write(("" if existing.endswith("\n") or not existing else "\n") + line + "\n")
