"""Git helpers for the loop: status, diff against a base, log, and checkpoints the agent can undo to.

A checkpoint is a commit of the whole working copy (tracked changes and untracked, non-ignored files) built
in a private index, so the user's index, stash and branches are never touched; it is kept alive by a ref
under `refs/mimo-agent/checkpoints/`. Undo compares the working copy with a checkpoint and puts back only
the files that differ (optionally only those the agent touched), so a user's uncommitted work that was
already there at the checkpoint survives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHECKPOINT_REFS = "refs/mimo-agent/checkpoints"
GIT_TIMEOUT_S = 120.0
_IDENTITY = {
    "GIT_AUTHOR_NAME": "mimo-agent",
    "GIT_AUTHOR_EMAIL": "mimo-agent@localhost",
    "GIT_COMMITTER_NAME": "mimo-agent",
    "GIT_COMMITTER_EMAIL": "mimo-agent@localhost",
}


class GitError(RuntimeError):
    """A git command failed or the folder is not a repository; the message has the command and git's error."""


@dataclass(frozen=True)
class Checkpoint:
    ref: str
    commit: str
    label: str


class GitRepo:
    """A repository found from any folder inside it; every call runs the git CLI with a timeout."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        start = Path(path)
        top = self._git(start, "rev-parse", "--show-toplevel").strip()
        self.root = Path(os.path.realpath(top))

    @classmethod
    def find(cls, path: str | os.PathLike[str]) -> GitRepo | None:
        """The repository containing `path`, or None when it is not in one."""
        try:
            return cls(path)
        except GitError:
            return None

    def run(self, *args: str, env: dict[str, str] | None = None, data: bytes | None = None) -> str:
        return self._git(self.root, *args, env=env, data=data)

    @staticmethod
    def _git(cwd: Path, *args: str, env: dict[str, str] | None = None, data: bytes | None = None) -> str:
        full_env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_PAGER": "cat",
            "LC_ALL": "C",
            **(env or {}),
        }
        try:
            proc = subprocess.run(
                ["git", *args], cwd=cwd, env=full_env, input=data, capture_output=True, timeout=GIT_TIMEOUT_S
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise GitError(f"git {' '.join(args)} timed out after {GIT_TIMEOUT_S:g}s in {cwd}") from exc
        except NotADirectoryError as exc:
            raise GitError(f"{cwd} is not a directory") from exc
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", errors="replace").strip()
            raise GitError(f"git {' '.join(args)} failed in {cwd}: {message}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    # --- reading --------------------------------------------------------------------------------------

    def head(self) -> str | None:
        """The HEAD commit, or None in a repository without commits."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip() or None
        except GitError:
            return None

    def status(self) -> str:
        return self.run("status", "--short", "--branch", "--untracked-files=all")

    def log(self, count: int = 10) -> str:
        if self.head() is None:
            return ""
        return self.run("log", f"-n{count}", "--format=%h %ad %an %s", "--date=short")

    def empty_tree(self) -> str:
        return self.run("hash-object", "-t", "tree", "/dev/null").strip()

    def snapshot_tree(self) -> str:
        """The tree of the working copy as `git add -A` would stage it, built in a throwaway index."""
        with tempfile.TemporaryDirectory(prefix="mimo-git-") as tmp:
            index = Path(tmp) / "index"
            real_index = Path(self.run("rev-parse", "--path-format=absolute", "--git-path", "index").strip())
            if real_index.is_file():
                shutil.copyfile(real_index, index)
            env = {"GIT_INDEX_FILE": str(index)}
            self.run("add", "-A", "--", ".", env=env)
            return self.run("write-tree", env=env).strip()

    def diff(self, base: str | None = None) -> str:
        """A patch (`git apply`-able, binary included) from `base` (default HEAD) to the working copy."""
        base = base or self.head() or self.empty_tree()
        return self.run("diff", "--binary", "--no-color", "--no-ext-diff", base, self.snapshot_tree())

    # --- checkpoints ----------------------------------------------------------------------------------

    def checkpoint(self, label: str = "checkpoint") -> Checkpoint:
        """Record the working copy now; cheap when nothing changed (objects are shared)."""
        tree = self.snapshot_tree()
        parents = ["-p", head] if (head := self.head()) else []
        commit = self.run("commit-tree", tree, *parents, "-m", f"mimo-agent: {label}", env=_IDENTITY).strip()
        ref = f"{CHECKPOINT_REFS}/{len(self.checkpoints()) + 1:05d}"
        self.run("update-ref", ref, commit)
        return Checkpoint(ref=ref, commit=commit, label=label)

    def checkpoints(self) -> list[Checkpoint]:
        """Existing checkpoints, oldest first."""
        out = self.run(
            "for-each-ref", "--sort=refname", "--format=%(refname) %(objectname) %(subject)", CHECKPOINT_REFS
        )
        found = []
        for line in out.splitlines():
            ref, commit, subject = (line.split(" ", 2) + [""])[:3]
            found.append(Checkpoint(ref, commit, subject.removeprefix("mimo-agent: ")))
        return found

    def drop_checkpoints(self) -> None:
        for cp in self.checkpoints():
            self.run("update-ref", "-d", cp.ref)

    def changed_since(self, checkpoint: Checkpoint) -> list[str]:
        """Repository-relative paths whose content differs between the checkpoint and the working copy."""
        out = self.run("diff", "--name-only", "--no-renames", "-z", checkpoint.commit, self.snapshot_tree())
        return [name for name in out.split("\0") if name]

    def undo(self, checkpoint: Checkpoint, paths: list[str] | None = None) -> list[str]:
        """Put files back as they were at `checkpoint`; only those in `paths` when given. Returns the paths.

        Files created since are deleted, deleted ones come back, and nothing else is touched: not the
        index, not ignored files, not files that are the same as at the checkpoint.
        """
        changed = self.changed_since(checkpoint)
        if paths is not None:
            wanted = set(paths)
            changed = [name for name in changed if name in wanted]
        entries = self._tree_entries(checkpoint.commit, changed)
        for name in changed:
            target = self.root / name
            real_parent = Path(os.path.realpath(target.parent))
            if real_parent != self.root and self.root not in real_parent.parents:
                raise GitError(f"undo refused: {name} lies behind a symlink outside the repository")
            if target.is_symlink() or target.is_file():
                target.unlink()
            if name not in entries:
                _remove_empty_parents(target.parent, self.root)
                continue
            mode, blob = entries[name]
            data = self._blob(blob)
            target.parent.mkdir(parents=True, exist_ok=True)
            if mode == "120000":
                os.symlink(data.decode("utf-8", errors="surrogateescape"), target)
            else:
                target.write_bytes(data)
                os.chmod(target, 0o755 if mode == "100755" else 0o644)
        return changed

    def _tree_entries(self, commit: str, names: list[str]) -> dict[str, tuple[str, str]]:
        if not names:
            return {}
        out = self.run(
            "ls-tree", "-r", "-z", "--full-tree", commit, "--", *names, env={"GIT_LITERAL_PATHSPECS": "1"}
        )
        entries = {}
        for record in out.split("\0"):
            if record:
                meta, _, name = record.partition("\t")
                mode, _kind, blob = meta.split()
                entries[name] = (mode, blob)
        return entries

    def _blob(self, blob: str) -> bytes:
        proc = subprocess.run(
            ["git", "cat-file", "blob", blob], cwd=self.root, capture_output=True, timeout=GIT_TIMEOUT_S
        )
        if proc.returncode != 0:
            raise GitError(f"git cat-file blob {blob} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
