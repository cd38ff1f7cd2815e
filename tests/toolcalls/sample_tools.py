"""Tool definitions shared by the parser, repair and feedback tests."""

from __future__ import annotations

from mimo_agent.toolcalls.definition import ToolDef

WEATHER = ToolDef(
    "get_weather",
    "Current weather",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1},
            "metric": {"type": "boolean"},
            "unit": {"enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)
WRITE = ToolDef(
    "write_file",
    "Write a file",
    {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "content": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "options": {
                "type": "object",
                "properties": {"mode": {"type": "integer"}, "backup": {"type": "boolean"}},
            },
            "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        },
        "required": ["path", "content"],
    },
)

TOOLS = [WEATHER, WRITE]
