"""The embedded engine and transformers backends drive the agent on a tiny random MiMo checkpoint.

Random weights say nothing useful; what is tested is that every path runs end to end and ends cleanly,
and that what the grammar lets through parses as a declared call.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mimo_agent.agent.outcome import OutcomeKind
from mimo_agent.agent.runner import agent_tools
from mimo_agent.backends.embedded import EmbeddedBackend
from mimo_agent.backends.transformers_backend import TransformersBackend
from mimo_agent.settings import ModelSettings
from mimo_agent.toolcalls.parser import parse
from tests.agent.replay_repo import make_buggy_repo
from tests.engine.tiny_models import save_tiny_chat

MESSAGES = [{"role": "system", "content": "You fix bugs."}, {"role": "user", "content": "add() is wrong"}]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_chat(tmp_path_factory.mktemp("tiny-chat"), seed=3)


def _settings(checkpoint: Path, backend: str) -> ModelSettings:
    return ModelSettings(
        backend=backend, path=str(checkpoint), temperature=1.0, max_new_tokens=48, context_window=8192
    )


@pytest.mark.parametrize("factory", [EmbeddedBackend.from_settings, TransformersBackend.from_settings])
def test_completion_streams_and_calls_parse(checkpoint: Path, factory) -> None:
    backend = factory(_settings(checkpoint, "embedded"))
    tools = agent_tools()
    deltas: list[str] = []
    completion = backend.complete(MESSAGES, tools, on_delta=deltas.append)
    assert "".join(deltas) == completion.text
    assert completion.usage.prompt_tokens == backend.count_tokens(MESSAGES, tools) > 0
    assert 0 < completion.usage.completion_tokens <= 48
    turn = parse(completion.text, tools, fmt="xml", truncated=completion.finish_reason == "length")
    names = {t.name for t in tools}
    # The grammar admits declared tools only; a call cut off by max_new_tokens before its name has none.
    assert all(call.name in names for call in turn.calls if call.name or completion.finish_reason == "stop")
    if completion.finish_reason == "stop":
        assert all(call.ok for call in turn.calls), [c.errors for c in turn.calls]


def test_embedded_backend_reuses_the_prefix_across_turns(checkpoint: Path) -> None:
    """The next turn's prompt extends the last one, so only the new tokens are prefilled.

    Few new tokens keep the rewind inside the sliding-window rings' slack; a longer divergence
    (re-tokenised output) correctly falls back to a cold prefill.
    """
    settings = _settings(checkpoint, "embedded").model_copy(update={"max_new_tokens": 2})
    backend = EmbeddedBackend.from_settings(settings)
    first = backend.complete(MESSAGES, [])
    history = [*MESSAGES, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "go on"}]
    second = backend.complete(history, [])
    assert second.usage.reused_prefix_tokens >= first.usage.prompt_tokens - 1


def test_embedded_backend_stores_weights_in_the_chosen_dtype(checkpoint: Path) -> None:
    settings = _settings(checkpoint, "embedded").model_copy(update={"weight_dtype": "bfloat16"})
    backend = EmbeddedBackend.from_settings(settings)
    assert backend.engine.model.lm_head.weight.dtype is torch.bfloat16
    assert backend.complete(MESSAGES, []).usage.completion_tokens > 0


def test_bad_model_directory_is_a_backend_error(tmp_path: Path) -> None:
    from mimo_agent.backends.base import BackendError

    for factory in (EmbeddedBackend.from_settings, TransformersBackend.from_settings):
        with pytest.raises(BackendError):
            factory(ModelSettings(path=str(tmp_path / "missing")))


@pytest.mark.slow
def test_fix_issue_subprocess_with_the_embedded_engine(tmp_path: Path, checkpoint: Path) -> None:
    """Whatever a random model emits, fix-issue runs to a typed outcome and exits 0 or 1."""
    repo = make_buggy_repo(tmp_path / "repo")
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "MIMO_AGENT_MODEL__MAX_NEW_TOKENS": "40",
        "MIMO_AGENT_MODEL__TEMPERATURE": "1.0",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mimo_agent.cli.main",
            "fix-issue",
            "--repo",
            str(repo),
            "--issue",
            "add is wrong",
            "--backend",
            "embedded",
            "--model",
            str(checkpoint),
            "--max-steps",
            "3",
            "--permission-mode",
            "read-only",
            "--trajectory",
            str(tmp_path / "t.json"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1]["type"] == "result"
    kind = events[-1]["payload"]["outcome"]["kind"]
    assert kind in {k.value for k in OutcomeKind} - {"error", "interrupted"}
    trajectory = json.loads((tmp_path / "t.json").read_text())
    assert trajectory["outcome"]["kind"] == kind
    assert [e for e in trajectory["events"] if e["type"] == "assistant_message"]


def test_prompt_ids_encode_only_the_new_suffix_and_equal_a_full_encode(checkpoint: Path) -> None:
    """Regression: every step re-tokenised the whole history (456 ms at 222K tokens)."""
    from mimo_agent.backends.local_prompt import BOUNDARY, PromptEncoder, split_boundary
    from mimo_agent.engine.tokenizer import EngineTokenizer

    tokenizer = EngineTokenizer.from_pretrained(checkpoint)
    encoded: list[int] = []

    def encode(text: str) -> list[int]:
        encoded.append(len(text))
        return tokenizer.encode(text)

    def render(messages: list, tools: list | None) -> str:
        return tokenizer.render_chat(messages, tools, add_generation_prompt=True)

    assert split_boundary(tokenizer.hf) == BOUNDARY  # a special token of its own: cuts are safe
    prompts = PromptEncoder(render, encode, BOUNDARY)
    tools = agent_tools()[:3]
    history = list(MESSAGES)
    awkward = [
        "\n\nleading newlines",
        "trailing spaces   ",
        "tabs\tand ünïcödé ✓",
        "<|im_end|> as text",
        " ",
        "x",
    ]
    for step, text in enumerate(awkward):
        ids = prompts.ids(history, tools)
        assert ids == tokenizer.encode(render(history, [t.to_openai() for t in tools]))
        assert prompts.ids(history, tools) is ids  # counted, then completed: one render and encode
        encoded.clear()
        call = {
            "id": f"c{step}",
            "type": "function",
            "function": {"name": "read_file", "arguments": {"path": text}},
        }
        history += [
            {"role": "assistant", "content": text, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{step}", "name": "read_file", "content": text + "\n"},
        ]
    ids = prompts.ids(history, tools)
    assert ids == tokenizer.encode(render(history, [t.to_openai() for t in tools]))
    assert sum(encoded) < len(render(history[-2:], None)) + 200  # only the new turn was encoded
    compacted = [history[0], {"role": "user", "content": "[Summary] read files"}, *history[-2:]]
    assert prompts.ids(compacted, tools) == tokenizer.encode(
        render(compacted, [t.to_openai() for t in tools])
    )
    # Regression: the cache was keyed on tool names, so a changed schema kept stale ids.
    changed = [dataclasses.replace(tools[0], description="another description"), *tools[1:]]
    assert prompts.ids(compacted, changed) == tokenizer.encode(
        render(compacted, [t.to_openai() for t in changed])
    )


def test_a_boundary_the_tokenizer_does_not_split_out_is_never_cut() -> None:
    from tokenizers import AddedToken

    from mimo_agent.backends.local_prompt import BOUNDARY, split_boundary

    class Tokenizer:
        added_tokens_decoder = {7: AddedToken(BOUNDARY, lstrip=True, special=True)}

    assert split_boundary(Tokenizer()) is None  # it would eat the whitespace before it
    Tokenizer.added_tokens_decoder = {}
    assert split_boundary(Tokenizer()) is None


@pytest.mark.parametrize("factory", [EmbeddedBackend.from_settings, TransformersBackend.from_settings])
def test_cancel_stops_generation_between_tokens(checkpoint: Path, factory) -> None:
    import threading

    settings = ModelSettings(path=str(checkpoint), temperature=0.0, max_new_tokens=64, context_window=8192)
    backend = factory(settings)
    full = backend.complete(MESSAGES, [])
    cancel = threading.Event()
    deltas: list[str] = []

    def on_delta(text: str) -> None:
        deltas.append(text)
        if len(deltas) == 3:
            cancel.set()

    cut = backend.complete(MESSAGES, [], on_delta=on_delta, cancel=cancel)
    assert full.usage.completion_tokens > 8, "the greedy reply must be long enough to cut"
    assert cut.finish_reason == "interrupted"
    assert 3 <= cut.usage.completion_tokens < full.usage.completion_tokens
    assert full.text.startswith(cut.text) and cut.text.startswith("".join(deltas[:3]))
    again = backend.complete(MESSAGES, [])  # the engine (its KV cache) is still consistent
    assert again.text == full.text and again.finish_reason == full.finish_reason
