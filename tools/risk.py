"""How risky a bash command is, as data the permission layer can act on.

`classify(command, workspace)` splits the command into simple commands (pipelines, `&&`, `||`, `;`, `&`,
sub-shells, `$(…)` and backticks, `bash -c '…'`, `eval`, wrappers such as `env`, `timeout`, `xargs`) with
shlex, tracks `cd` to know where relative paths point, and rates each part:

- SAFE: known read-only commands (ls, cat, grep, git status/diff/log, …).
- ASK: anything that changes files inside the workspace, runs programs, or uses the network.
- DANGEROUS: destructive or privileged: `rm -r` outside build folders, `git push --force`, `git reset
  --hard`, `git clean -f`, `curl … | sh`, `sudo`, `chmod -R`, `mkfs`, `dd`, writes or deletions outside the
  workspace (the temp folder excepted), and anything that cannot be parsed safely enough to tell.

The whole command gets the highest level of its parts, with the reason of the first part at that level.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mimo_agent.tools.risk_rules import Finding, RiskLevel, RiskState, check_write, rate

__all__ = ["Finding", "Risk", "RiskLevel", "classify"]

PRIVILEGED = frozenset({"sudo", "doas", "su", "pkexec"})
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish"})
INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node", "php"}
DOWNLOADERS = frozenset({"curl", "wget", "fetch"})
WRAPPERS = frozenset(
    {"nohup", "time", "nice", "ionice", "command", "builtin", "exec", "stdbuf", "env", "timeout"}
)
_CONTROL = frozenset({";", "&&", "||", "|", "|&", "&", "(", ")", ";;", "{", "}"})
_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<", "<<", "<<<", "<>", "<&"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_FORK_BOMB = re.compile(r":\s*\(\s*\)\s*\{[^}]*:\s*\|\s*:")
MAX_NESTING = 4


@dataclass(frozen=True)
class Risk:
    level: RiskLevel
    reason: str
    findings: tuple[Finding, ...] = ()


def classify(
    command: str,
    workspace: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    writable_roots: Sequence[str | os.PathLike[str]] | None = None,
) -> Risk:
    """Rate `command` as run from `cwd` (default: the workspace root) in `workspace`."""
    ws = Path(os.path.realpath(workspace))
    roots = [tempfile.gettempdir()] if writable_roots is None else list(writable_roots)
    state = RiskState(ws, tuple(Path(os.path.realpath(r)) for r in roots), Path(os.path.realpath(cwd or ws)))
    _classify_into(command, state, depth=0)
    if not state.findings:
        return Risk(RiskLevel.SAFE, "empty command")
    worst = max(f.level for f in state.findings)
    first = next(f for f in state.findings if f.level == worst)
    reason = first.reason if worst > RiskLevel.SAFE else "read-only commands"
    return Risk(worst, reason, tuple(state.findings))


def _classify_into(command: str, state: RiskState, depth: int) -> None:
    if depth > MAX_NESTING:
        state.add(RiskLevel.DANGEROUS, "nested shells too deep to analyse", [command[:80]])
        return
    if _FORK_BOMB.search(command):
        state.add(RiskLevel.DANGEROUS, "fork bomb", [command[:80]])
        return
    text = command.replace("\\\n", " ").replace("\n", " ; ").replace("`", " ; ").replace("$(", " ; (")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:
        state.add(RiskLevel.ASK, f"cannot parse the command ({exc})", [command[:80]])
        return
    segment: list[str] = []
    pipeline: list[list[str]] = []
    for token in [*tokens, ";"]:
        if token not in _CONTROL:
            segment.append(token)
            continue
        if segment:
            pipeline.append(segment)
            _simple(segment, state, depth, pipeline)
        segment = []
        if token not in ("|", "|&"):
            pipeline = []


def _simple(tokens: list[str], state: RiskState, depth: int, pipeline: list[list[str]]) -> None:
    argv: list[str] = []
    writes: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _REDIRECTS or (token.isdigit() and i + 1 < len(tokens) and tokens[i + 1] in _REDIRECTS):
            if token.isdigit():
                i += 1
                token = tokens[i]
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            duplicates_fd = token == ">&" and (target.isdigit() or target == "-")
            if token.startswith((">", "&>", "<>")) and not duplicates_fd:
                writes.append(target)
            i += 2
            continue
        argv.append(token)
        i += 1
    while argv and _ASSIGNMENT.match(argv[0]):
        argv.pop(0)
    for target in writes:
        check_write(target, state, argv or tokens, "redirects output to")
    if argv:
        _command(argv, state, depth, pipeline)


def _command(argv: list[str], state: RiskState, depth: int, pipeline: list[list[str]]) -> None:
    name = os.path.basename(argv[0])
    args = argv[1:]
    if name in PRIVILEGED:
        state.add(RiskLevel.DANGEROUS, f"runs as another user ({name})", argv)
        return
    if name in WRAPPERS or name == "xargs":
        inner = _unwrap(name, args)
        if inner and name == "xargs":
            inner.append("$XARGS_INPUT")  # operands arrive on stdin: unknown
        if inner:
            _command(inner, state, depth, pipeline)
        elif name in ("env", "command", "builtin") or not args:
            state.add(RiskLevel.SAFE, f"{name} without a command", argv)
        return
    if name in ("eval", "source", ".") or (name in SHELLS and "-c" in args):
        script = " ".join(args[args.index("-c") + 1 :][:1]) if "-c" in args else " ".join(args)
        if name in ("source", "."):
            state.add(RiskLevel.ASK, f"runs the script {script!r} in the shell", argv)
            return
        _classify_into(script, state, depth + 1)
        return
    if len(pipeline) > 1 and name in INTERPRETERS and not [a for a in args if not a.startswith("-")]:
        fed_by_download = any(os.path.basename(seg[0]) in DOWNLOADERS for seg in pipeline[:-1] if seg)
        if fed_by_download:
            state.add(RiskLevel.DANGEROUS, f"pipes a download into {name}", argv)
        else:
            state.add(RiskLevel.ASK, f"pipes text into {name} to run it", argv)
        return
    rate(argv, state)


def _unwrap(name: str, args: list[str]) -> list[str]:
    """The command a wrapper runs (`timeout 5 pytest` -> `pytest`)."""
    i = 0
    while i < len(args) and (args[i].startswith("-") or _ASSIGNMENT.match(args[i])):
        i += 1
    if name == "timeout" and i < len(args):
        i += 1  # the duration
    return args[i:]
