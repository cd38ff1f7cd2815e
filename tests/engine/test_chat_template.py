"""Golden renderings of the packaged MiMo chat template (reference §7) through EngineTokenizer.render_chat."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mimo_agent.engine.tokenizer import ChatFormatError, EngineTokenizer
from tests.tiny_tokenizer import build_tiny_tokenizer

DEFAULT_SYSTEM = "<|im_start|>system\nYou are MiMo, a helpful AI assistant engineered by Xiaomi."
INSTRUCTIONS = (
    "To call a function, reply with one block per call in exactly this format:\n"
    "<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>value_1</parameter>\n"
    "<parameter=example_parameter_2>a value that may\nspan several lines</parameter>\n</function>\n</tool_call>\n\n"
    "Rules:\n"
    "- Close your reasoning with </think> before calling a function; never call a function inside <think></think>.\n"
    "- Every parameter value is taken verbatim, including spaces and newlines; do not escape or quote it.\n"
    "- Pass objects and arrays as JSON."
)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_CALL = {
    "id": "call_0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> EngineTokenizer:
    directory = tmp_path_factory.mktemp("tiny_tokenizer")
    build_tiny_tokenizer(directory)
    return EngineTokenizer.from_pretrained(directory)


def test_worked_example_of_the_reference(tok: EngineTokenizer) -> None:
    """Reference §7 worked example, byte for byte: thinking off, one tool, one round trip."""
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL]},
        {"role": "tool", "tool_call_id": "call_0", "content": '{"temp_c": 21}'},
    ]
    expected = (
        "<|im_start|>system\nYou are MiMo, a helpful AI assistant engineered by Xiaomi.\n\n# Tools\n\n"
        "You may call one or more functions to assist with the user query.\n\n"
        "You have access to the following functions:\n\n"
        "<tools>\n<function>\n<name>get_weather</name>\n<description>Current weather</description>\n"
        "<parameters>\n<parameter>\n<name>city</name>\n<type>string</type>\n</parameter>\n"
        '<required>["city"]</required>\n</parameters>\n</function>\n</tools>\n\n'
        + INSTRUCTIONS
        + "<|im_end|><|im_start|>user\nWeather in Paris?<|im_end|><|im_start|>assistant\n<think></think>"
        "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>"
        '<|im_end|><|im_start|>tool\n<tool_response>\n{"temp_c": 21}\n</tool_response>\n<|im_end|>'
        "<|im_start|>assistant\n<think></think>"
    )
    assert tok.render_chat(messages, tools=[WEATHER_TOOL]) == expected


def test_plain_chat_with_default_system(tok: EngineTokenizer) -> None:
    rendered = tok.render_chat([{"role": "user", "content": "Hello"}])
    assert (
        rendered
        == DEFAULT_SYSTEM
        + "<|im_end|><|im_start|>user\nHello<|im_end|><|im_start|>assistant\n<think></think>"
    )


def test_own_system_prompt_replaces_the_default(tok: EngineTokenizer) -> None:
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]
    assert tok.render_chat(messages, add_generation_prompt=False) == (
        "<|im_start|>system\nBe terse.<|im_end|><|im_start|>user\nHi<|im_end|>"
    )


def test_thinking_on_leaves_the_think_block_to_the_model(tok: EngineTokenizer) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    assert tok.render_chat(messages, enable_thinking=True).endswith("<|im_end|><|im_start|>assistant\n")
    assert tok.render_chat(messages, enable_thinking=False).endswith("<|im_start|>assistant\n<think></think>")
    assert tok.render_chat(messages, add_generation_prompt=False).endswith("user\nHi<|im_end|>")


def test_reasoning_kept_after_the_last_user_message_only(tok: EngineTokenizer) -> None:
    messages = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "reasoning_content": "old thoughts", "content": "A1"},
        {"role": "user", "content": "Q2"},
        {
            "role": "assistant",
            "reasoning_content": "new thoughts",
            "content": "",
            "tool_calls": [WEATHER_CALL],
        },
        {"role": "tool", "content": "sunny"},
        {"role": "assistant", "reasoning_content": "more thoughts", "content": "A2"},
    ]
    rendered = tok.render_chat(messages, add_generation_prompt=False, enable_thinking=True)
    assert "old thoughts" not in rendered
    assert "<|im_start|>assistant\n<think></think>A1<|im_end|>" in rendered
    assert "<|im_start|>assistant\n<think>new thoughts</think><tool_call>\n" in rendered
    assert rendered.endswith("<|im_start|>assistant\n<think>more thoughts</think>A2<|im_end|>")


def test_reasoning_inside_content_is_split_out(tok: EngineTokenizer) -> None:
    messages = [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "<think>hmm</think>Answer"},
    ]
    assert tok.render_chat(messages, add_generation_prompt=False).endswith(
        "<|im_start|>assistant\n<think>hmm</think>Answer<|im_end|>"
    )
    older = [*messages, {"role": "user", "content": "again"}]
    assert "<|im_start|>assistant\n<think></think>Answer<|im_end|>" in tok.render_chat(older)


def test_consecutive_tool_messages_share_one_turn(tok: EngineTokenizer) -> None:
    second_call = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}
    messages = [
        {"role": "user", "content": "Paris and Rome?"},
        {"role": "assistant", "content": "Checking both.", "tool_calls": [WEATHER_CALL, second_call]},
        {"role": "tool", "content": "21"},
        {"role": "tool", "content": "25"},
        {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL]},
        {"role": "tool", "content": "22"},
    ]
    rendered = tok.render_chat(messages)
    assert rendered.endswith(
        "<|im_start|>assistant\n<think></think>Checking both."
        "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>"
        "<tool_call>\n<function=get_weather>\n<parameter=city>Rome</parameter>\n</function>\n</tool_call><|im_end|>"
        "<|im_start|>tool\n<tool_response>\n21\n</tool_response>\n<tool_response>\n25\n</tool_response>\n<|im_end|>"
        "<|im_start|>assistant\n<think></think>"
        "<tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call><|im_end|>"
        "<|im_start|>tool\n<tool_response>\n22\n</tool_response>\n<|im_end|>"
        "<|im_start|>assistant\n<think></think>"
    )
    assert rendered.count("<|im_start|>tool\n") == 2


def test_argument_values_objects_and_arrays_are_json(tok: EngineTokenizer) -> None:
    arguments = {"path": "a b.py", "lines": [1, 2], "opts": {"x": "é"}, "force": True, "n": 3, "none": None}
    as_dict = {"type": "function", "function": {"name": "edit", "arguments": arguments}}
    as_json = {"type": "function", "function": {"name": "edit", "arguments": json.dumps(arguments)}}
    renders = [
        tok.render_chat(
            [{"role": "user", "content": "go"}, {"role": "assistant", "content": "", "tool_calls": [call]}]
        )
        for call in (as_dict, as_json)
    ]
    assert renders[0] == renders[1]
    assert (
        "<tool_call>\n<function=edit>\n<parameter=path>a b.py</parameter>\n<parameter=lines>[1, 2]</parameter>\n"
        '<parameter=opts>{"x": "é"}</parameter>\n<parameter=force>true</parameter>\n<parameter=n>3</parameter>\n'
        "<parameter=none>null</parameter>\n</function>\n</tool_call><|im_end|>"
    ) in renders[0]


def test_tool_schema_extra_keys_and_bare_function_tools(tok: EngineTokenizer) -> None:
    tool = {
        "name": "bash",
        "description": "  Run a command.  ",
        "parameters": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command"},
                "mode": {"type": "string", "enum": ["fast", "safe"], "default": "safe"},
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    }
    rendered = tok.render_chat([{"role": "user", "content": "ls"}], tools=[tool])
    assert (
        "<tools>\n<function>\n<name>bash</name>\n<description>Run a command.</description>\n<parameters>\n"
        "<parameter>\n<name>command</name>\n<type>string</type>\n<description>The command</description>\n</parameter>\n"
        '<parameter>\n<name>mode</name>\n<type>string</type>\n<enum>["fast", "safe"]</enum>\n<default>safe</default>\n'
        '</parameter>\n<required>["command"]</required>\n<additionalProperties>False</additionalProperties>\n'
        "</parameters>\n</function>\n</tools>"
    ) in rendered


def test_content_parts_and_none(tok: EngineTokenizer) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": None},
    ]
    assert tok.render_chat(messages, add_generation_prompt=False).endswith(
        "<|im_start|>user\nab<|im_end|><|im_start|>assistant\n<think></think><|im_end|>"
    )


def test_messages_are_not_mutated(tok: EngineTokenizer) -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]},
    ]
    before = copy.deepcopy(messages)
    tok.render_chat(messages)
    assert messages == before


def test_unknown_role_is_a_chat_format_error(tok: EngineTokenizer) -> None:
    with pytest.raises(ChatFormatError, match=r"messages\[1\]\.role is 'robot'"):
        tok.render_chat([{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}])


@pytest.mark.parametrize(
    ("arguments", "expected"), [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")]
)
def test_bad_tool_call_arguments_are_a_chat_format_error(
    tok: EngineTokenizer, arguments: str, expected: str
) -> None:
    call = {"type": "function", "function": {"name": "f", "arguments": arguments}}
    with pytest.raises(
        ChatFormatError, match=rf"messages\[0\]\.tool_calls\[0\]\.function\.arguments.*{expected}"
    ):
        tok.render_chat([{"role": "assistant", "content": "", "tool_calls": [call]}])


def test_template_loaded_by_transformers_renders_the_same(tmp_path: Path, tok: EngineTokenizer) -> None:
    """The file written next to the tokenizer is what a plain transformers user gets too."""
    hf = build_tiny_tokenizer(tmp_path)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    assert hf.apply_chat_template(
        messages, tools=[WEATHER_TOOL], tokenize=False, add_generation_prompt=True
    ) == (tok.render_chat(messages, tools=[WEATHER_TOOL]))
