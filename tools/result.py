"""What every tool hands back to the loop: text for the model plus metadata for the TUI and the trajectory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolResult:
    """`output` is the observation the model reads; `metadata` is for the loop and UI, never shown to the model.

    Known metadata keys: `path` (workspace-relative path touched), `paths` (several), `diff` (unified diff of
    a write), `exit_code` (bash), `timed_out` (bash), `final` (finish: the run should stop), `todos`.
    """

    output: str
    is_error: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def error(cls, message: str, **metadata: Any) -> ToolResult:
        return cls(output=message, is_error=True, metadata=metadata)
