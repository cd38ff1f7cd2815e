"""A small byte-level BPE tokenizer in MiMo's format, trained in-process for tests.

Tiny models are built with `vocab_size = len(tokenizer)`; the special tokens sit after the BPE
vocabulary as in the real Qwen2-family tokenizer, and the directory carries the packaged MiMo chat
template, so `AutoTokenizer.from_pretrained(directory, local_files_only=True)` behaves like a checkpoint.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from mimo_agent.evals.tiny_model.tokenizer import as_transformers, byte_level_bpe

BPE_VOCAB_SIZE = 1024

CORPUS = """\
You are MiMo, a helpful AI assistant engineered by Xiaomi.
system user assistant tool system user assistant tool
The user asks a question, the assistant answers, and a tool returns a result to the assistant.
The quick brown fox jumps over the lazy dog. What is the weather in Paris today?
Please read the file, find the failing test and fix the bug. I will run the tests again after that.
The function returns a list of strings; each string is one line of the output.
Let me think about this step by step. First, we open the file. Then we search for the error message.
def add(a: int, b: int) -> int:
    return a + b


class Counter:
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def increment(self, step: int = 1) -> int:
        self.value += step
        return self.value


for index, line in enumerate(open("data.txt", encoding="utf-8")):
    if line.strip() and not line.startswith("#"):
        print(f"{index}: {line!r}")
import json, os, sys
with open(path) as handle:
    config = json.load(handle)
raise ValueError(f"bad value for field {name!r}: {value}")
<tool_call>
<function=get_weather>
<parameter=city>Paris</parameter>
</function>
</tool_call>
<tool_call>
<function=bash>
<parameter=command>ls -la && python -m pytest -q tests/</parameter>
</function>
</tool_call>
<tool_call>
<function=edit_file>
<parameter=path>src/app/main.py</parameter>
<parameter=old_text>return a - b</parameter>
<parameter=new_text>return a + b</parameter>
</function>
</tool_call>
<tool_response>
{"temp_c": 21, "conditions": "sunny", "ok": true, "items": [1, 2, 3], "error": null}
</tool_response>
<tools>
<function>
<name>read_file</name>
<description>Read a text file from the workspace</description>
<parameters>
<parameter>
<name>path</name>
<type>string</type>
<description>Path relative to the workspace root</description>
</parameter>
<required>["path"]</required>
</parameters>
</function>
</tools>
Numbers 0 1 2 3 4 5 6 7 8 9 10 42 100 2024 3.14 -1 1e-5 0x1F
Symbols: ( ) [ ] { } < > = == != <= >= + - * / % ** // -> => := ; : , . ' " ` ~ ! ? @ # $ ^ & | \\
Café naïve résumé — “quotes” ‘single’ … 中文测试 你好，世界。日本語のテキスト 한국어 Привет мир 🙂🚀👍🏽
"""


@functools.lru_cache(maxsize=1)
def _tokenizer_json() -> str:
    """Train once per process (the demo model's recipe, on this corpus); deterministic for a fixed corpus."""
    return byte_level_bpe([CORPUS] * 4, BPE_VOCAB_SIZE).to_str()


def build_tiny_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    """Write the tiny tokenizer (with the MiMo chat template) into `directory` and return it."""
    tokenizer = as_transformers(Tokenizer.from_str(_tokenizer_json()))
    Path(directory).mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory)
    return tokenizer
