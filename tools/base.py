"""Turning a pydantic Args model and a `run(args, context)` function into a ToolDef with a safe handler.

The handler validates the raw arguments and converts every failure the model or the environment can cause
(bad arguments, a path outside the workspace, a binary file, an OS error) into an error ToolResult; an
unexpected exception (a bug in a tool) becomes an error observation too, so a tool never raises into the
loop. Ctrl-C (KeyboardInterrupt) is not an Exception and still reaches the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from mimo_agent.toolcalls.definition import ToolDef
from mimo_agent.tools.paths import PathEscapeError
from mimo_agent.tools.result import ToolResult
from mimo_agent.tools.textfile import BinaryFileError

if TYPE_CHECKING:
    from mimo_agent.tools.context import ToolContext

A = TypeVar("A", bound=BaseModel)


def format_validation_error(tool: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"  {where}: {error['msg']}")
    return f"Invalid arguments for {tool}:\n" + "\n".join(problems)


def define_tool(
    name: str, description: str, args_model: type[A], run: Callable[[A, ToolContext], ToolResult]
) -> ToolDef:
    def handler(arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        try:
            args = args_model.model_validate(arguments)
        except ValidationError as exc:
            return ToolResult.error(format_validation_error(name, exc))
        try:
            return run(args, context)
        except (PathEscapeError, BinaryFileError) as exc:
            return ToolResult.error(str(exc))
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            return ToolResult.error(f"{name} failed: {exc.strerror or exc}{where}")
        except Exception as exc:  # a tool bug must not end the run: the model sees it and can work around it
            return ToolResult.error(f"{name} failed unexpectedly: {type(exc).__name__}: {exc}")

    handler.__name__ = f"{name}_handler"
    return ToolDef.from_model(name, description, args_model, handler)
