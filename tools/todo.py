"""`todo(items)`: the model's plan, kept in the tool context so the loop and UI can show it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from mimo_agent.tools.base import define_tool
from mimo_agent.tools.result import ToolResult

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext

_MARKS = {"pending": "[ ]", "in_progress": "[~]", "completed": "[x]"}


class TodoItem(BaseModel):
    content: str = Field(description="What to do, as a short imperative sentence.", min_length=1)
    status: Literal["pending", "in_progress", "completed"] = Field(
        "pending", description="pending, in_progress (at most one at a time) or completed."
    )


class TodoList:
    """The current plan; each `todo` call replaces it whole."""

    def __init__(self) -> None:
        self.items: list[TodoItem] = []

    def replace(self, items: list[TodoItem]) -> None:
        self.items = list(items)

    def render(self) -> str:
        if not self.items:
            return "(the todo list is empty)"
        return "\n".join(f"{_MARKS[item.status]} {item.content}" for item in self.items)


class TodoArgs(BaseModel):
    items: list[TodoItem] = Field(
        description="The whole todo list (replaces the previous one). Mark a task in_progress before starting "
        "it and completed as soon as it is done."
    )


def run_todo(args: TodoArgs, context: ToolContext) -> ToolResult:
    context.todos.replace(args.items)
    doing = sum(item.status == "in_progress" for item in args.items)
    warning = f"\nNote: {doing} tasks are in_progress; keep one at a time." if doing > 1 else ""
    todos = [item.model_dump() for item in args.items]
    return ToolResult(
        output=f"Todo list updated:\n{context.todos.render()}{warning}", metadata={"todos": todos}
    )


TODO = define_tool(
    "todo",
    "Record or update your task plan as a checklist. Use it for work with several steps; send the full list.",
    TodoArgs,
    run_todo,
)
