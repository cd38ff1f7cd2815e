"""Who may do what: permission modes, allow/deny rules for bash, and the command risk table.

Modes: `read-only` (reading tools only), `ask` (reads run; edits and commands ask), `auto-edit` (edits
inside the workspace run; commands ask unless the risk table calls them safe), `yolo` (everything runs).
Deny rules win everywhere; a command the risk table calls dangerous asks even in `auto-edit`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from mimo_agent.settings import PermissionSettings
from mimo_agent.tools.registry import EDIT_TOOLS, READ_ONLY_TOOLS
from mimo_agent.tools.risk import Risk, RiskLevel

COMMAND_TOOLS = frozenset({"bash"})


class Verdict(Enum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    remember: bool = False  # "allow for this session"


class Approver(Protocol):
    def decide(self, name: str, arguments: dict[str, Any], check: Check) -> Decision:
        """Resolve an ASK: the TUI asks the user, headless runs answer from the mode."""
        ...


class HeadlessApprover:
    """No one to ask: refuse with a message that tells the model (and the user reading the log) why."""

    def decide(self, name: str, arguments: dict[str, Any], check: Check) -> Decision:
        return Decision(
            False,
            f"not permitted in this headless run ({check.reason}); the user can allow it with "
            "--permission-mode auto-edit or yolo. Try another way that stays within reading and editing files.",
        )


RiskFn = Callable[[str], Risk]  # rates a bash command as run in the workspace


@dataclass
class PermissionPolicy:
    settings: PermissionSettings
    classify_command: RiskFn
    session_allowed: set[tuple[str, str]] = field(default_factory=set)

    def check(self, name: str, arguments: dict[str, Any]) -> Check:
        mode = self.settings.mode
        if name in READ_ONLY_TOOLS:
            return Check(Verdict.ALLOW, "reading")
        if name in COMMAND_TOOLS:
            return self._check_command(str(arguments.get("command", "")))
        key = (name, "")
        if key in self.session_allowed:
            return Check(Verdict.ALLOW, "allowed for this session")
        if mode == "read-only":
            return Check(Verdict.DENY, f"{name} changes files and the permission mode is read-only")
        if name in EDIT_TOOLS and mode in ("auto-edit", "yolo"):
            return Check(Verdict.ALLOW, f"edits allowed in {mode}")
        if mode == "yolo":
            return Check(Verdict.ALLOW, "yolo")
        return Check(Verdict.ASK, f"{name} needs approval in {mode} mode")

    def _check_command(self, command: str) -> Check:
        mode = self.settings.mode
        if any(fnmatch.fnmatchcase(command, pattern) for pattern in self.settings.deny):
            return Check(Verdict.DENY, "the command matches a deny rule")
        if mode == "read-only":
            return Check(Verdict.DENY, "commands are not run in read-only mode")
        if ("bash", command) in self.session_allowed:
            return Check(Verdict.ALLOW, "allowed for this session")
        if any(fnmatch.fnmatchcase(command, pattern) for pattern in self.settings.allow):
            return Check(Verdict.ALLOW, "the command matches an allow rule")
        if mode == "yolo":
            return Check(Verdict.ALLOW, "yolo")
        risk = self.classify_command(command)
        if risk.level is RiskLevel.DANGEROUS:
            return Check(Verdict.ASK, f"risky command: {risk.reason}")
        if mode == "auto-edit" and risk.level is RiskLevel.SAFE:
            return Check(Verdict.ALLOW, "a safe command")
        return Check(Verdict.ASK, f"running a command needs approval in {mode} mode")

    def remember(self, name: str, arguments: dict[str, Any]) -> None:
        self.session_allowed.add(
            (name, str(arguments.get("command", ""))) if name in COMMAND_TOOLS else (name, "")
        )
