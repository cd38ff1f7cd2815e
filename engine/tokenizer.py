"""A checkpoint's tokenizer and chat template, loaded from its own directory (never from a hub).

The engine works on token ids; this module is the only place that turns OpenAI-style messages into a
prompt (with the checkpoint's chat template, or the packaged MiMo template when it ships none) and
ids back into text. Stop ids are resolved by token name, so no tokenizer-specific id is hard-coded.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from .detokenizer import IncrementalDetokenizer
from .errors import CheckpointError, ConfigError, EngineError

STOP_TOKEN_NAMES = ("<|im_end|>", "<|endoftext|>")
CHAT_ROLES = ("system", "user", "assistant", "tool")
# Files holding an eos_token_id that ends generation; generation_config.json may list several.
EOS_CONFIG_FILES = ("config.json", "generation_config.json")


class ChatFormatError(EngineError, ValueError):
    """A chat message is malformed (unknown role, tool-call arguments that are not a JSON object, ...)."""


def packaged_chat_template() -> str:
    """The MiMo-V2-Flash template shipped with the engine (see templates/mimo_chat_template.jinja)."""
    return resources.files(__package__).joinpath("templates", "mimo_chat_template.jinja").read_text("utf-8")


class EngineTokenizer:
    def __init__(self, tokenizer: PreTrainedTokenizerBase, chat_template: str, stop_token_ids: list[int]):
        self.hf = tokenizer
        self.chat_template = chat_template
        self.stop_token_ids = stop_token_ids

    @classmethod
    def from_pretrained(cls, path: str | Path) -> EngineTokenizer:
        directory = Path(path)
        if not directory.is_dir():
            raise CheckpointError(f"tokenizer directory {str(directory)!r} does not exist")
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot load a tokenizer from {str(directory)!r}: {exc}") from exc
        template = tokenizer.chat_template
        if isinstance(template, dict):  # several named templates: the checkpoint's default one
            template = template.get("default")
        stop_ids = _resolve_stop_ids(tokenizer, directory)
        return cls(
            tokenizer,
            template if isinstance(template, str) and template else packaged_chat_template(),
            stop_ids,
        )

    def __len__(self) -> int:
        """Number of ids the tokenizer can produce (BPE vocabulary plus added tokens)."""
        return len(self.hf)

    def encode(self, text: str) -> list[int]:
        """Ids for `text`; special-token strings in it (e.g. `<|im_end|>`) map to their ids, nothing is added."""
        return list(self.hf.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def detokenizer(self) -> IncrementalDetokenizer:
        return IncrementalDetokenizer(self.decode)

    def render_chat(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
        enable_thinking: bool = False,
    ) -> str:
        """The prompt text for OpenAI-style `messages` (and tools), ending with the assistant header."""
        rendered = self.hf.apply_chat_template(
            normalize_messages(messages),
            tools=list(tools) if tools else None,
            chat_template=self.chat_template,
            add_generation_prompt=add_generation_prompt,
            enable_thinking=enable_thinking,
            tokenize=False,
        )
        assert isinstance(rendered, str), type(rendered)
        return rendered

    def encode_chat(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
        enable_thinking: bool = False,
    ) -> list[int]:
        return self.encode(self.render_chat(messages, tools, add_generation_prompt, enable_thinking))


def normalize_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `messages` in the shape templates expect: string content, tool-call arguments as dicts."""
    normalized = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in CHAT_ROLES:
            role = message.get("role") if isinstance(message, dict) else type(message).__name__
            raise ChatFormatError(
                f"messages[{index}].role is {role!r}; expected one of {', '.join(CHAT_ROLES)}"
            )
        message = copy.deepcopy(message)
        message["content"] = _content_text(message.get("content"), index)
        for call_index, call in enumerate(message.get("tool_calls") or []):
            function = call.get("function", call)
            function["arguments"] = _arguments_dict(
                function.get("arguments"), f"messages[{index}].tool_calls[{call_index}].function.arguments"
            )
        normalized.append(message)
    return normalized


def _content_text(content: Any, index: int) -> str:
    """OpenAI content may be None, a string, or a list of parts; only text parts carry over."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return "".join(
            part["text"] for part in content if part.get("type", "text") == "text" and "text" in part
        )
    raise ChatFormatError(
        f"messages[{index}].content is a {type(content).__name__}; expected a string or a list of text parts"
    )


def _arguments_dict(arguments: Any, where: str) -> dict[str, Any]:
    if arguments is None:
        return {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ChatFormatError(f"{where} is not valid JSON ({exc}): {arguments[:200]!r}") from exc
    if not isinstance(arguments, dict):
        raise ChatFormatError(f"{where} must be a JSON object; got {type(arguments).__name__}")
    return arguments


def _resolve_stop_ids(tokenizer: PreTrainedTokenizerBase, directory: Path) -> list[int]:
    vocab = tokenizer.get_vocab()
    names = [*STOP_TOKEN_NAMES, tokenizer.eos_token]
    ids = [vocab[name] for name in names if isinstance(name, str) and name in vocab]
    for filename in EOS_CONFIG_FILES:
        ids += _config_eos_ids(directory / filename)
    stop_ids = list(dict.fromkeys(ids))
    if not stop_ids:
        raise CheckpointError(
            f"no stop token in {str(directory)!r}: the tokenizer has none of "
            f"{', '.join(STOP_TOKEN_NAMES)} and no config file sets eos_token_id"
        )
    return stop_ids


def _config_eos_ids(path: Path) -> list[int]:
    if not path.is_file():
        return []
    try:
        value = json.loads(path.read_text("utf-8")).get("eos_token_id")
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise ConfigError(f"{path}: cannot read eos_token_id ({exc})") from exc
    values = value if isinstance(value, list) else [value]
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0) for v in values):
        raise ConfigError(
            f"{path}: field 'eos_token_id' must be a non-negative integer or a list of them; got {value!r}"
        )
    return [v for v in values if v is not None]
