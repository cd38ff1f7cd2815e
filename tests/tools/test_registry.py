from __future__ import annotations

import os

import pytest

from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.tools.context import ToolContext
from mimo_agent.tools.registry import UnknownToolError, default_tools, get_tool
from tests.tools.conftest import call

# The model-facing API that prompts, trajectories and replays depend on.
FIXED_API = {
    "read_file": {"path", "start_line", "end_line"},
    "write_file": {"path", "content"},
    "edit": {"path", "old_string", "new_string", "replace_all"},
    "multi_edit": {"path", "edits"},
    "apply_patch": {"patch"},
    "glob": {"pattern", "path"},
    "grep": {"pattern", "path", "glob"},
    "bash": {"command", "timeout"},
    "todo": {"items"},
    "finish": {"summary"},
}


def test_default_tools_expose_the_fixed_api() -> None:
    tools = {tool.name: tool for tool in default_tools()}
    assert set(tools) == set(FIXED_API)
    for name, params in FIXED_API.items():
        tool = tools[name]
        assert isinstance(tool, ToolDef) and tool.handler is not None and tool.description
        assert params <= set(tool.parameters["properties"]), name
        for prop in tool.parameters["properties"].values():
            assert prop.get("description"), name
        assert tool.to_openai()["function"]["name"] == name


def test_get_tool_lists_valid_names() -> None:
    assert get_tool("grep").name == "grep"
    with pytest.raises(UnknownToolError) as info:
        get_tool("serach")
    assert str(info.value).startswith(
        "unknown tool 'serach'; valid tools: apply_patch, bash, edit, finish, glob"
    )


def test_get_tool_among_a_custom_set() -> None:
    extra = ToolDef(name="repo_map", description="map")
    assert get_tool("repo_map", [*default_tools(), extra]) is extra


def test_invalid_arguments_become_an_error_result(ctx: ToolContext) -> None:
    result = call(ctx, "read_file", path=3, start_line="x")
    assert result.is_error
    assert "Invalid arguments for read_file:" in result.output
    assert "path: Input should be a valid string" in result.output
    assert "start_line" in result.output


def test_os_errors_become_an_error_result(ctx: ToolContext) -> None:
    result = call(ctx, "write_file", path="src/app.py/inner.txt", content="x")
    assert result.is_error
    assert result.output.startswith("write_file failed: ")
    assert "src/app.py" in result.output


def test_special_files_are_refused(ctx: ToolContext) -> None:
    os.mkfifo(ctx.root / "pipe")
    for name, arguments in [("read_file", {}), ("write_file", {"content": "x"}), ("grep", {"pattern": "x"})]:
        result = call(ctx, name, path="pipe", **arguments)
        assert result.is_error and "not a regular file" in result.output, name
    assert "is not a regular file" in call(ctx, "edit", path="pipe", old_string="a", new_string="b").output


def test_todo_replaces_the_list_and_keeps_it_in_context(ctx: ToolContext) -> None:
    items = [
        {"content": "Reproduce the bug", "status": "completed"},
        {"content": "Fix parse_date", "status": "in_progress"},
        {"content": "Run the tests"},
    ]
    result = call(ctx, "todo", items=items)
    assert result.output == "Todo list updated:\n[x] Reproduce the bug\n[~] Fix parse_date\n[ ] Run the tests"
    assert [item.content for item in ctx.todos.items] == [
        "Reproduce the bug",
        "Fix parse_date",
        "Run the tests",
    ]
    assert result.metadata["todos"][2] == {"content": "Run the tests", "status": "pending"}
    two = call(
        ctx,
        "todo",
        items=[{"content": "a", "status": "in_progress"}, {"content": "b", "status": "in_progress"}],
    )
    assert "2 tasks are in_progress" in two.output
    assert call(ctx, "todo", items=[{"content": "x", "status": "done"}]).is_error


def test_finish_is_flagged_final(ctx: ToolContext) -> None:
    result = call(ctx, "finish", summary="Fixed the off-by-one in parse_date; tests pass.")
    assert result.metadata["final"] is True
    assert result.output == "Fixed the off-by-one in parse_date; tests pass."
    assert call(ctx, "finish", summary="").is_error


def test_a_tool_bug_becomes_an_error_observation(ctx: ToolContext) -> None:
    """Regression: an unexpected exception in a tool escaped the loop and ended the run with no outcome."""
    from pydantic import BaseModel

    from mimo_agent.tools.base import define_tool

    class NoArgs(BaseModel):
        pass

    def broken(args: NoArgs, context: ToolContext):  # type: ignore[no-untyped-def]
        raise KeyError("missing")

    tool = define_tool("broken", "always fails", NoArgs, broken)
    result = tool.handler({}, ctx)
    assert result.is_error and result.output == "broken failed unexpectedly: KeyError: 'missing'"
