"""What the tools share during one agent run: the workspace, the shell session, the todo list and limits."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mimo_agent.tools.paths import Workspace
from mimo_agent.tools.shell import NON_INTERACTIVE_ENV, BashSession
from mimo_agent.tools.todo import TodoList


class ToolConfig(BaseModel):
    """Limits and switches of the tools; the agent builds it from its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bash_timeout: float = Field(120.0, gt=0, description="default seconds a bash command may run")
    bash_max_timeout: float = Field(600.0, gt=0, description="the most seconds the model may ask for")
    bash_env: dict[str, str] = Field(default_factory=lambda: dict(NON_INTERACTIVE_ENV))
    max_output_chars: int = Field(30_000, gt=0, description="cap on any observation (head and tail kept)")
    read_max_lines: int = Field(2_000, gt=0, description="lines read_file shows per call")
    read_max_line_chars: int = Field(2_000, gt=0, description="longer lines are cut in read_file")
    read_max_file_bytes: int = Field(20_000_000, gt=0, description="larger files are refused by read_file")
    list_max_results: int = Field(200, gt=0, description="paths glob shows")
    grep_max_matches: int = Field(200, gt=0, description="matching lines grep shows")
    grep_max_file_bytes: int = Field(5_000_000, gt=0, description="larger files are skipped by grep")
    syntax_check: bool = Field(True, description="tree-sitter check after each write")


@dataclass
class ToolContext:
    """Created once per run with `ToolContext.create(root)`; `close()` removes the shell's state directory."""

    workspace: Workspace
    config: ToolConfig = field(default_factory=ToolConfig)
    todos: TodoList = field(default_factory=TodoList)
    changed_paths: set[str] = field(default_factory=set)  # workspace-relative paths written by file tools
    base_env: Mapping[str, str] | None = None  # environment the shell starts from (default: os.environ)
    state: dict[str, Any] = field(
        default_factory=dict
    )  # per-run objects a tool keeps warm (e.g. the repo mapper)
    cancel: threading.Event = field(
        default_factory=threading.Event
    )  # the agent's interrupt: bash stops on it
    count_tokens: Callable[[str], int] | None = None  # the model's tokenizer, when the backend has one
    _shell: BashSession | None = field(default=None, init=False, repr=False)

    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        config: ToolConfig | None = None,
        base_env: Mapping[str, str] | None = None,
        cancel: threading.Event | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> ToolContext:
        return cls(
            workspace=Workspace(root),
            config=config or ToolConfig(),
            base_env=base_env,
            cancel=cancel or threading.Event(),
            count_tokens=count_tokens,
        )

    @property
    def root(self) -> Path:
        return self.workspace.root

    @property
    def shell(self) -> BashSession:
        if self._shell is None:
            self._shell = BashSession(self.root, env=self.base_env, overrides=self.config.bash_env)
        return self._shell

    def close(self) -> None:
        if self._shell is not None:
            self._shell.close()
            self._shell = None
