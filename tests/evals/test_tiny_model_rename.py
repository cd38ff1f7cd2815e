"""Renaming a trajectory's repository names: consistent everywhere, spans moved, prompt words kept."""

from __future__ import annotations

import random
import re
from pathlib import Path

from mimo_agent.evals.tiny_model.rename import candidate_names, kept_words, rename
from mimo_agent.evals.tiny_model.train import RenamedSamples
from tests.tiny_tokenizer import build_tiny_tokenizer

TEXT = (
    "<|im_start|>system\ntools: read_file(path)<|im_end|>"
    "<|im_start|>user\n`ledger.balance()` is wrong:\nfrom bank.ledger import Ledger\n<|im_end|>"
    "<|im_start|>assistant\nReading bank/ledger.py<|im_end|>"
    "<|im_start|>tool\n1\tclass Ledger:\n2\t    def balance(self):\n3\t        return len(self.path)\n<|im_end|>"
    "<|im_start|>assistant\nFix balance in bank/ledger.py<|im_end|>"
)


def _spans(text: str) -> list[list[int]]:
    return [[m.start(1), m.end(1)] for m in re.finditer(r"assistant\n(.*?)<\|im_end\|>", text)]


def test_repository_names_are_found_but_prompt_words_and_builtins_kept() -> None:
    keep = kept_words(["read_file path"])
    assert candidate_names(TEXT, keep) == ["bank", "ledger", "Ledger", "balance"]


def test_renaming_is_consistent_and_moves_the_assistant_spans() -> None:
    keep = kept_words(["read_file path"])
    text, spans = rename(TEXT, _spans(TEXT), keep, random.Random(3))
    assert "bank" not in text and "ledger" not in text and "Ledger" not in text and "balance" not in text
    assert "self.path" in text and "read_file(path)" in text  # kept words survive
    new_module = re.search(r"from (\w+)\.(\w+) import (\w+)", text)
    assert new_module is not None
    package, module, cls = new_module.groups()
    assert f"Reading {package}/{module}.py" in text and f"class {cls}:" in text and cls[0].isupper()
    assert [text[a:b] for a, b in spans] == [
        m.group(1) for m in re.finditer(r"assistant\n(.*?)<\|im_end\|>", text)
    ]
    assert rename(TEXT, _spans(TEXT), keep, random.Random(3)) == (text, spans)  # seeded
    assert rename(TEXT, _spans(TEXT), keep, random.Random(4))[0] != text


def test_renamed_samples_draw_new_names_and_keep_the_loss_on_assistant_tokens(tmp_path: Path) -> None:
    tokenizer = build_tiny_tokenizer(tmp_path)
    row = {"text": TEXT, "assistant_spans": _spans(TEXT), "instance_id": "x"}
    keep = kept_words(["read_file path"])
    original = RenamedSamples(tokenizer, [row], keep, share=0.0).sample(0, random.Random(0))
    renamed = RenamedSamples(tokenizer, [row], keep, share=1.0).sample(0, random.Random(0))
    assert "ledger" in tokenizer.decode(original.ids) and "ledger" not in tokenizer.decode(renamed.ids)
    scored = tokenizer.decode(renamed.ids[renamed.scored])
    assert scored.startswith("Reading ") and "Fix " in scored and "class" not in scored
