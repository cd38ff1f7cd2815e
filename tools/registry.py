"""The tool set by name: `default_tools()` for the agent, `get_tool(name)` with an error listing valid names."""

from __future__ import annotations

from collections.abc import Iterable

from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.tools.apply_patch import APPLY_PATCH
from mimo_agent.tools.bash import BASH
from mimo_agent.tools.edit import EDIT
from mimo_agent.tools.finish import FINISH
from mimo_agent.tools.glob_files import GLOB
from mimo_agent.tools.grep import GREP
from mimo_agent.tools.multi_edit import MULTI_EDIT
from mimo_agent.tools.read_file import READ_FILE
from mimo_agent.tools.todo import TODO
from mimo_agent.tools.write_file import WRITE_FILE

READ_ONLY_TOOLS = frozenset({"read_file", "glob", "grep", "todo", "finish", "repo_map"})
EDIT_TOOLS = frozenset({"write_file", "edit", "multi_edit", "apply_patch"})


class UnknownToolError(KeyError):
    """A tool name that is not in the set; the message lists the valid names."""

    def __str__(self) -> str:
        return str(self.args[0])


def default_tools() -> list[ToolDef]:
    """The coding tools in prompt order (repo_map is added by its own package)."""
    return [READ_FILE, GLOB, GREP, EDIT, MULTI_EDIT, WRITE_FILE, APPLY_PATCH, BASH, TODO, FINISH]


def get_tool(name: str, tools: Iterable[ToolDef] | None = None) -> ToolDef:
    """The tool called `name` among `tools` (default: `default_tools()`); raises UnknownToolError."""
    available = list(default_tools() if tools is None else tools)
    for tool in available:
        if tool.name == name:
            return tool
    valid = ", ".join(sorted(tool.name for tool in available))
    raise UnknownToolError(f"unknown tool {name!r}; valid tools: {valid}")
