"""The one place that turns a model-supplied path into a real path, refusing anything outside the workspace.

Every file tool goes through `Workspace.resolve`. A path is accepted only when its fully resolved form
(every symlink followed, at any component, including a final component that does not exist yet) lies in
the workspace root. Writes into the repository's `.git` directory are refused as well: hooks there run code.
"""

from __future__ import annotations

import os
from pathlib import Path


class PathEscapeError(ValueError):
    """A path is empty, malformed, or resolves outside the workspace; the message names the path."""


class Workspace:
    """The directory tree the tools may touch."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        resolved = Path(os.path.realpath(root))
        if not resolved.is_dir():
            raise PathEscapeError(f"workspace root {str(root)!r} is not a directory")
        self.root = resolved

    def resolve(self, path: str, *, for_write: bool = False) -> Path:
        """The real path for `path` (relative to the root, or absolute inside it); raises PathEscapeError."""
        if not isinstance(path, str) or not path.strip():
            raise PathEscapeError(f"path {path!r} is empty; give a path relative to the workspace root")
        if "\x00" in path:
            raise PathEscapeError(f"path {path!r} contains a NUL byte")
        if path.startswith("~"):
            raise PathEscapeError(
                f"path {path!r}: '~' is not expanded; give a path relative to the workspace root"
            )
        candidate = Path(path) if os.path.isabs(path) else self.root / path
        real = Path(os.path.realpath(candidate))
        if not self.contains(real):
            raise PathEscapeError(
                f"path {path!r} resolves to {str(real)!r}, outside the workspace {str(self.root)!r}; "
                "only files inside the workspace can be used"
            )
        if for_write and self.contains(real, self.root / ".git"):
            raise PathEscapeError(
                f"path {path!r} is inside .git; the repository's internals are not writable"
            )
        return real

    def contains(self, real: Path, base: Path | None = None) -> bool:
        base = self.root if base is None else base
        return real == base or base in real.parents

    def relative(self, real: Path) -> str:
        """The workspace-relative POSIX form used in observations ('.' for the root)."""
        return real.relative_to(self.root).as_posix() or "."
