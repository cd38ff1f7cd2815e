"""One tool definition: the single source for the OpenAI `tools` entry, the prompt, the grammar and the validator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class ToolDef:
    """A tool the model may call.

    `parameters` is a JSON Schema object (`{"type": "object", "properties": …, "required": […]}`).
    `handler` is opaque to this layer (the agent loop calls it with the validated arguments dict and its
    own context); the tool-calling layer only needs the name, description and schema.
    """

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    handler: Callable[..., Any] | None = None

    @classmethod
    def from_model(
        cls, name: str, description: str, model: type[BaseModel], handler: Callable[..., Any] | None = None
    ) -> ToolDef:
        """Build the definition from a pydantic model of the arguments (field descriptions become the docs)."""
        schema = model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return cls(name=name, description=description, parameters=schema, handler=handler)

    def to_openai(self) -> dict[str, Any]:
        """The entry for an OpenAI `tools` list."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }
