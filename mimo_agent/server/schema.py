"""The request body of `POST /v1/chat/completions`, checked field by field before anything reaches the engine.

Fields OpenAI clients send that do not change what this server does (`user`, `store`, penalties …) are
ignored; fields it cannot honour (`n` > 1, `logprobs`) are refused rather than silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ROLES = ("system", "developer", "user", "assistant", "tool")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextPart(_Lenient):
    type: Literal["text"] = "text"
    text: str


class FunctionCallIn(_Lenient):
    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(_Lenient):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCallIn


class ChatMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    reasoning_content: str | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _by_role(self) -> ChatMessage:
        if self.role != "assistant" and self.content is None:
            raise ValueError(f"a {self.role} message needs content (a string or a list of text parts)")
        if self.role != "assistant" and (self.tool_calls or self.reasoning_content is not None):
            raise ValueError("only assistant messages may carry tool_calls or reasoning_content")
        return self

    def to_template(self) -> dict[str, Any]:
        """The dict the chat template reads (`developer` is a system turn to this model)."""
        message = self.model_dump(exclude_none=True)
        if self.role == "developer":
            message["role"] = "system"
        return message


FUNCTION_NAME = r"^[A-Za-z0-9_.:-]{1,64}$"


class FunctionSpec(_Lenient):
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolSpec(_Lenient):
    type: Literal["function"]
    function: FunctionSpec

    def to_openai(self) -> dict[str, Any]:
        function: dict[str, Any] = {
            "name": self.function.name,
            "description": self.function.description or "",
        }
        function["parameters"] = self.function.parameters or {"type": "object", "properties": {}}
        return {"type": "function", "function": function}


class NamedFunction(_Strict):
    name: str


class NamedToolChoice(_Strict):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaSpec(_Lenient):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError('type "json_schema" needs a json_schema object with a "schema"')
        return self


class StreamOptions(_Lenient):
    include_usage: bool = False


class TemplateKwargs(_Lenient):
    """Only `enable_thinking` changes this model's template; other keys SGLang clients send are ignored."""

    enable_thinking: bool = False


class ChatCompletionRequest(_Lenient):
    model: str
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["auto", "required", "none"] | NamedToolChoice | None = None
    parallel_tool_calls: bool = True
    response_format: ResponseFormat | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    top_k: Annotated[int, Field(ge=0)] = 0
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    stop: (
        Annotated[str, Field(min_length=1)]
        | Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=4)]
        | None
    ) = None
    seed: Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    chat_template_kwargs: TemplateKwargs | None = None
    n: Literal[1] = 1
    logprobs: Literal[False] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChatCompletionRequest:
        forces_call = isinstance(self.tool_choice, NamedToolChoice) or self.tool_choice == "required"
        if forces_call and not self.tools:
            raise ValueError("tool_choice asks for a tool call but no tools were given")
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options is only allowed with stream: true")
        names = [tool.function.name for tool in self.tools or []]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"tools: duplicate function names {duplicates}")
        return self

    @property
    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    @property
    def max_new_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def sampling_seed(self) -> int | None:
        """OpenAI takes any int64 seed, torch's generator a uint64: negative seeds wrap (two's complement),
        so every int64 stays its own, repeatable seed."""
        return None if self.seed is None else self.seed % 2**64

    @property
    def enable_thinking(self) -> bool:
        return self.chat_template_kwargs is not None and self.chat_template_kwargs.enable_thinking

    @property
    def json_mode(self) -> bool:
        return self.response_format is not None and self.response_format.type != "text"

    @property
    def effective_tool_choice(self) -> str | dict[str, Any]:
        """OpenAI's default: "auto" with tools, "none" without."""
        if self.tool_choice is None:
            return "auto" if self.tools else "none"
        if isinstance(self.tool_choice, NamedToolChoice):
            return self.tool_choice.model_dump()
        return self.tool_choice
