"""The per-command rules behind `risk.classify`: tables of known commands and one handler per family.

Each handler looks at one simple command (already split from pipelines and wrappers) and adds findings to
the `RiskState`, which also tracks the directory `cd` moved to so relative paths resolve where bash would.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


class RiskLevel(IntEnum):
    SAFE = 0
    ASK = 1
    DANGEROUS = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    level: RiskLevel
    reason: str
    command: str  # the simple command it is about


@dataclass
class RiskState:
    workspace: Path
    writable: tuple[Path, ...]  # folders outside the workspace that may be written (the temp folder)
    cwd: Path | None  # None once a `cd` went somewhere we cannot know
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: RiskLevel, reason: str, argv: Sequence[str]) -> None:
        self.findings.append(Finding(level, reason, " ".join(argv)))


READ_ONLY = _words(
    """ls cat head tail grep egrep fgrep rg ag wc echo printf pwd which type file stat du df tree sort uniq cut
    tr diff cmp comm basename dirname realpath readlink date printenv whoami id uname hostname true false test
    [ sleep seq jq nl od hexdump xxd md5sum sha1sum sha256sum column fold expand less more export unset set
    popd ps uptime free lsof"""
)
BUILD_DIRS = _words(
    """build dist target out node_modules __pycache__ .pytest_cache .mypy_cache .ruff_cache .tox .nox .cache
    .next .nuxt coverage htmlcov .coverage .eggs .gradle .venv venv tmp"""
)
DISK_TOOLS = _words("mkfs dd shred fdisk sfdisk parted wipefs mkswap cryptsetup")
POWER = _words("shutdown reboot halt poweroff init telinit")
GIT_READ_ONLY = _words(
    """status diff log show rev-parse ls-files ls-tree blame describe shortlog cat-file grep reflog show-ref
    merge-base name-rev rev-list whatchanged"""
)
_SAFE_SINKS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/")


def rate(argv: list[str], state: RiskState) -> None:
    """Add the finding(s) for one plain command (no wrapper, shell or pipeline left around it)."""
    name = os.path.basename(argv[0])
    handler = _HANDLERS.get(name)
    if handler is not None:
        handler(argv, state)
    elif name.startswith("mkfs") or name in DISK_TOOLS:
        state.add(RiskLevel.DANGEROUS, f"{name} writes raw disks or destroys data", argv)
    elif name in POWER:
        state.add(RiskLevel.DANGEROUS, f"{name} stops the machine", argv)
    elif name in READ_ONLY:
        state.add(RiskLevel.SAFE, "read-only", argv)
    else:
        state.add(RiskLevel.ASK, f"runs {name!r}, which is not a known read-only command", argv)


def _resolve(token: str, state: RiskState) -> Path | None:
    """Where a path argument points, or None when it depends on expansion we cannot see."""
    if "$" in token or not token:
        return None
    if token.startswith("~"):
        token = os.path.expanduser(token)
        if token.startswith("~"):
            return None
    glob_at = min((token.find(c) for c in "*?[" if c in token), default=-1)
    if glob_at != -1:
        prefix = token[:glob_at]
        token = (prefix.rsplit("/", 1)[0] or "/") if "/" in prefix else "."
    if os.path.isabs(token):
        return Path(os.path.realpath(token))
    if state.cwd is None:
        return None
    return Path(os.path.realpath(state.cwd / token))


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def _off_limits(path: Path, state: RiskState) -> bool:
    """Outside both the workspace and the folders that may be written."""
    return not _inside(path, state.workspace) and not any(_inside(path, root) for root in state.writable)


def check_write(target: str, state: RiskState, argv: Sequence[str], verb: str) -> None:
    if target.startswith(_SAFE_SINKS):
        return
    path = _resolve(target, state)
    if path is None:
        state.add(RiskLevel.ASK, f"{verb} {target!r}, whose location depends on the environment", argv)
    elif _inside(path, state.workspace):
        state.add(RiskLevel.ASK, f"{verb} {target!r} in the workspace", argv)
    elif any(_inside(path, root) for root in state.writable):
        state.add(RiskLevel.ASK, f"{verb} {target!r} in the temp folder", argv)
    else:
        state.add(RiskLevel.DANGEROUS, f"{verb} {str(path)!r}, outside the workspace", argv)


def _operands(args: list[str]) -> tuple[set[str], list[str]]:
    flags, operands, after_dashes = set(), [], False
    for arg in args:
        if after_dashes or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            after_dashes = True
        elif arg.startswith("--"):
            flags.add(arg)
        else:
            flags.update(f"-{c}" for c in arg[1:])
    return flags, operands


def _rm(argv: list[str], state: RiskState) -> None:
    flags, targets = _operands(argv[1:])
    recursive = bool(flags & {"-r", "-R", "--recursive"})
    if not targets:
        state.add(RiskLevel.SAFE, "rm without operands", argv)
        return
    for target in targets:
        path = _resolve(target, state)
        if path is None:
            level = RiskLevel.DANGEROUS if recursive else RiskLevel.ASK
            state.add(level, f"deletes {target!r}, whose location depends on the environment", argv)
        elif _inside(state.workspace, path):
            state.add(RiskLevel.DANGEROUS, f"deletes {str(path)!r}, which contains the whole workspace", argv)
        elif _inside(path, state.workspace):
            parts = path.relative_to(state.workspace).parts
            in_build = any(p in BUILD_DIRS or p.endswith(".egg-info") for p in parts)
            if recursive and not in_build:
                state.add(
                    RiskLevel.DANGEROUS, f"recursively deletes {target!r}, which is not a build folder", argv
                )
            else:
                state.add(RiskLevel.ASK, f"deletes {target!r} in the workspace", argv)
        elif any(_inside(path, root) and path != root for root in state.writable):
            state.add(RiskLevel.ASK, f"deletes {target!r} in the temp folder", argv)
        else:
            state.add(RiskLevel.DANGEROUS, f"deletes {str(path)!r}, outside the workspace", argv)


def _git(argv: list[str], state: RiskState) -> None:
    args = argv[1:]
    while args and args[0].startswith("-"):
        takes_value = args[0] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace")
        args = args[2:] if takes_value else args[1:]
    if not args:
        state.add(RiskLevel.SAFE, "git without a sub-command", argv)
        return
    sub, rest = args[0], args[1:]
    flags, operands = _operands(rest)
    danger = None
    if sub == "push" and (
        flags & {"-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d"}
        or any(op.startswith("+") or op.startswith(":") for op in operands)
    ):
        danger = "force-pushes or deletes remote history"
    elif sub == "reset" and "--hard" in flags:
        danger = "git reset --hard discards uncommitted work"
    elif sub == "clean" and flags & {"-f", "--force"}:
        danger = "git clean -f deletes untracked files"
    elif (
        sub in ("checkout", "restore")
        and (operands and ("." in operands or "--" in rest))
        and "--staged" not in flags
    ):
        danger = f"git {sub} of paths discards uncommitted changes"
    elif sub == "stash" and operands[:1] in (["drop"], ["clear"]):
        danger = "drops stashed work"
    elif sub in ("filter-branch", "filter-repo") or (sub == "reflog" and operands[:1] == ["expire"]):
        danger = f"git {sub} rewrites history"
    elif sub == "branch" and flags & {"-D"}:
        danger = "force-deletes a branch"
    if danger:
        state.add(RiskLevel.DANGEROUS, danger, argv)
    elif (
        sub in GIT_READ_ONLY
        or (sub in ("branch", "tag", "remote", "stash") and not operands)
        or (sub == "config" and flags & {"--get", "--list", "-l"})
    ):
        state.add(RiskLevel.SAFE, f"read-only git {sub}", argv)
    else:
        state.add(RiskLevel.ASK, f"git {sub} changes the repository or talks to a remote", argv)


def _find(argv: list[str], state: RiskState) -> None:
    acting = {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls"}
    used = " ".join(sorted(acting & set(argv)))
    if not used:
        state.add(RiskLevel.SAFE, "read-only", argv)
        return
    starts = []
    for arg in argv[1:]:
        if arg.startswith(("-", "(", "!")):
            break
        starts.append(arg)
    for start in starts or ["."]:
        path = _resolve(start, state)
        if path is not None and _off_limits(path, state):
            state.add(RiskLevel.DANGEROUS, f"find {used} acts on {str(path)!r}, outside the workspace", argv)
            return
    state.add(RiskLevel.ASK, f"find with {used} changes files or runs commands", argv)


def _mode_change(argv: list[str], state: RiskState) -> None:
    flags, operands = _operands(argv[1:])
    if flags & {"-R", "--recursive"}:
        state.add(RiskLevel.DANGEROUS, f"{argv[0]} -R changes permissions of a whole tree", argv)
        return
    for target in operands[1:]:
        check_write(target, state, argv, f"{argv[0]} changes")


def _copy_move(argv: list[str], state: RiskState) -> None:
    flags, operands = _operands(argv[1:])
    if len(operands) < 2:
        state.add(RiskLevel.ASK, f"{argv[0]} with unclear operands", argv)
        return
    check_write(operands[-1], state, argv, f"{argv[0]} writes")
    if os.path.basename(argv[0]) == "mv":
        for source in operands[:-1]:
            check_write(source, state, argv, "mv removes")


def _writes_all(argv: list[str], state: RiskState) -> None:
    _, operands = _operands(argv[1:])
    for target in operands:
        check_write(target, state, argv, f"{argv[0]} writes")
    if not operands:
        state.add(RiskLevel.SAFE, f"{argv[0]} without files", argv)


def _in_place(argv: list[str], state: RiskState) -> None:
    flags, operands = _operands(argv[1:])
    if "-i" not in flags and not any(f.startswith("--in-place") for f in flags):
        if os.path.basename(argv[0]) == "sed":
            state.add(RiskLevel.SAFE, "read-only", argv)
        else:
            state.add(RiskLevel.ASK, f"runs {argv[0]!r}", argv)
        return
    for target in operands[1:] or operands:
        check_write(target, state, argv, f"{argv[0]} -i edits")


def _cd(argv: list[str], state: RiskState) -> None:
    target = argv[1] if len(argv) > 1 else "~"
    state.cwd = None if target == "-" else _resolve(target, state)
    state.add(RiskLevel.SAFE, "changes directory", argv)


def _kill(argv: list[str], state: RiskState) -> None:
    if len(argv) > 1 and argv[-1] == "-1":
        state.add(RiskLevel.DANGEROUS, "kills every process of the user", argv)
    else:
        state.add(RiskLevel.ASK, f"{argv[0]} stops processes", argv)


def _download(argv: list[str], state: RiskState) -> None:
    for flag in ("-o", "--output", "-O", "--output-document"):
        if flag in argv[:-1] and argv[argv.index(flag) + 1] != "-":
            check_write(argv[argv.index(flag) + 1], state, argv, f"{argv[0]} saves to")
    state.add(RiskLevel.ASK, f"{argv[0]} uses the network", argv)


_HANDLERS: dict[str, Callable[[list[str], RiskState], None]] = {
    "rm": _rm,
    "rmdir": _writes_all,
    "unlink": _writes_all,
    "git": _git,
    "find": _find,
    "chmod": _mode_change,
    "chown": _mode_change,
    "chgrp": _mode_change,
    "cp": _copy_move,
    "mv": _copy_move,
    "ln": _copy_move,
    "install": _copy_move,
    "rsync": _copy_move,
    "tee": _writes_all,
    "touch": _writes_all,
    "mkdir": _writes_all,
    "truncate": _writes_all,
    "sed": _in_place,
    "perl": _in_place,
    "cd": _cd,
    "pushd": _cd,
    "kill": _kill,
    "killall": _kill,
    "pkill": _kill,
    "curl": _download,
    "wget": _download,
}
