"""The agent's state folder in the workspace (`.mimo-agent/`): full outputs, caches, trajectories.

It sits inside the workspace so the agent's `read_file` can reach what is saved there, and holds a
`.gitignore` of `*` so nothing in it ever lands in a patch: unlike `.git/info/exclude`, that works in a
worktree, a submodule and a workspace below the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".mimo-agent"


def exclude_state_dir(workspace: Path) -> None:
    """Create the state folder with a `.gitignore` that ignores everything in it, itself included."""
    ignore = workspace / STATE_DIR / ".gitignore"
    if not ignore.is_file():
        ignore.parent.mkdir(parents=True, exist_ok=True)
        ignore.write_text("# mimo-agent's own state: never part of a patch\n*\n", encoding="utf-8")
