"""The demo model's training data: expert trajectories through the real agent loop, and its tokenizer."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from transformers import AutoTokenizer

from mimo_agent.agent.runner import agent_tools
from mimo_agent.engine.tokenizer import EngineTokenizer
from mimo_agent.evals.tasks import generate_split
from mimo_agent.evals.tasks.runner import run_test_cmd
from mimo_agent.evals.tiny_model import make_tokenizer, trajectories
from mimo_agent.evals.tiny_model.agent_profile import agent_flags
from mimo_agent.evals.tiny_model.episode import run_episode
from mimo_agent.evals.tiny_model.expert import ExpertBackend, ExpertError
from mimo_agent.evals.tiny_model.gold import GoldPatchError, enclosing_definition, gold_edits
from mimo_agent.evals.tiny_model.issue import read_issue
from mimo_agent.evals.tiny_model.render import render_with_spans
from mimo_agent.evals.tiny_model.token_stats import grammar_acceptance
from mimo_agent.evals.tiny_model.tokenizer import (
    CALL_TOKENS,
    CONTROL_TOKENS,
    MARKUP_TOKENS,
    MaskError,
    byte_level_bpe,
    encode_with_mask,
)
from mimo_agent.evals.tiny_model.trajectories import generate_trajectories, load_tasks, read_trajectories
from mimo_agent.evals.tiny_model.wording import tool_call

ASSISTANT_PROMPT = "<|im_start|>assistant\n<think></think>"
END = "<|im_end|>"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two training tasks, their trajectories (seed 0) and a tokenizer trained on them."""
    root = tmp_path_factory.mktemp("tiny-model-data")
    tasks = root / "tasks"
    generate_split("train", 2, 0, tasks)
    out = root / "trajectories.jsonl"
    summary = generate_trajectories(tasks, out, seed=0, work_dir=root / "work")
    assert (
        make_tokenizer.main(
            [
                "--trajectories",
                str(out),
                "--tasks",
                str(tasks),
                "--out",
                str(root / "tokenizer"),
                "--vocab-size",
                "1024",
            ]
        )
        == 0
    )
    return {"root": root, "tasks": tasks, "out": out, "summary": summary, "rows": read_trajectories(out)}


def test_every_task_yields_a_trajectory_that_ends_with_finish(data: dict[str, Any]) -> None:
    rows, summary = data["rows"], data["summary"]
    assert summary["trajectories"] == summary["episodes"] == len(rows) == 2
    for row in rows:
        last = row["messages"][-2]
        assert last["role"] == "assistant" and last["tool_calls"][0]["function"]["name"] == "finish"
        assert row["tools_called"][-1] == "finish" and "edit" in row["tools_called"]
        assert row["steps"] == len(row["outputs"]) == sum(m["role"] == "assistant" for m in row["messages"])


def test_every_expert_call_is_valid_without_repair(data: dict[str, Any]) -> None:
    calls = data["summary"]["calls"]
    assert calls["parsed"] == sum(row["steps"] for row in data["rows"])
    assert calls["repaired"] == calls["invalid"] == calls["turns_without_call"] == 0
    assert data["summary"]["valid_call_rate"] == 1.0


def test_the_recorded_patch_passes_the_hidden_tests(data: dict[str, Any], tmp_path: Path) -> None:
    """Re-graded from scratch: a fresh copy of the repository, the agent's patch, then the test_patch."""
    tasks = {instance["instance_id"]: (instance, spec) for instance, spec in load_tasks(data["tasks"])}
    for row in data["rows"]:
        instance, spec = tasks[row["instance_id"]]
        repo = tmp_path / row["instance_id"]
        shutil.copytree(data["tasks"] / spec["source"]["path"], repo)
        for patch in (row["patch"], instance["test_patch"]):
            subprocess.run(["git", "apply", "-"], cwd=repo, input=patch, text=True, check=True, timeout=60)
        statuses, _ = run_test_cmd(repo, spec["test_cmd"])
        for test in json.loads(instance["FAIL_TO_PASS"]) + json.loads(instance["PASS_TO_PASS"]):
            assert statuses.get(test) == "PASSED", (row["instance_id"], test)
        subprocess.run(
            ["git", "apply", "-R", "-"], cwd=repo, input=row["patch"], text=True, check=True, timeout=60
        )
        unfixed, _ = run_test_cmd(repo, spec["test_cmd"])
        assert any(unfixed.get(test) != "PASSED" for test in json.loads(instance["FAIL_TO_PASS"]))


def test_an_episode_that_does_not_fix_the_bug_is_rejected(data: dict[str, Any], tmp_path: Path) -> None:
    """The expert is handed a 'gold' patch that only adds a comment: the run finishes, the grade refuses it."""
    instance, spec = load_tasks(data["tasks"])[0]
    path = re.search(r"^\+\+\+ b/(\S+)", instance["patch"], re.MULTILINE).group(1)
    first = (data["tasks"] / spec["source"]["path"] / path).read_text().splitlines()[0]
    decoy = {**instance, "patch": f"--- a/{path}\n+++ b/{path}\n@@ -1 +1,2 @@\n {first}\n+# not the fix\n"}
    episode = run_episode(decoy, spec, data["tasks"], tmp_path, random.Random(0))
    assert episode.outcome == "finished" and "# not the fix" in episode.patch
    assert not episode.resolved and episode.failure.startswith("hidden tests fail")


def test_assistant_spans_cover_exactly_the_assistant_turns(data: dict[str, Any]) -> None:
    for row in data["rows"]:
        text, spans = row["text"], row["assistant_spans"]
        starts = [m.end() for m in re.finditer(re.escape(ASSISTANT_PROMPT), text)]
        assert [start for start, _ in spans] == starts
        for (start, end), output in zip(spans, row["outputs"], strict=True):
            assert text[start:end] == output + END
            assert END not in text[start : end - len(END)]
        system_end = text.index(END)  # the system turn's format example holds the only other call markup
        for call in re.finditer("<tool_call>", text[system_end:]):
            assert any(start <= system_end + call.start() < end for start, end in spans)


def test_training_text_is_what_the_engine_tokenizer_renders(data: dict[str, Any]) -> None:
    tokenizer = EngineTokenizer.from_pretrained(data["root"] / "tokenizer")
    tools = [tool.to_openai() for tool in agent_tools(agent_flags()["tools"]["enabled"])]  # as trained
    for row in data["rows"]:
        assert tokenizer.render_chat(row["messages"], tools, add_generation_prompt=False) == row["text"]
        history = row["messages"][:3]  # system, user, first assistant turn
        prompt = tokenizer.render_chat(history[:2], tools, add_generation_prompt=True)
        assert row["text"].startswith(prompt) and prompt.endswith(ASSISTANT_PROMPT)


def test_tokenizer_loads_like_a_checkpoint_and_round_trips(data: dict[str, Any]) -> None:
    directory = data["root"] / "tokenizer"
    hf = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    engine = EngineTokenizer.from_pretrained(directory)
    vocab = hf.get_vocab()
    assert hf.chat_template == engine.chat_template and "<tool_call>" in engine.chat_template
    assert sorted(engine.stop_token_ids) == sorted(vocab[t] for t in ("<|im_end|>", "<|endoftext|>"))
    for token in CONTROL_TOKENS + MARKUP_TOKENS + CALL_TOKENS:
        assert hf.encode(token, add_special_tokens=False) == [vocab[token]]
    for row in data["rows"]:
        ids, mask = encode_with_mask(hf, row["text"], row["assistant_spans"])
        assert hf.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False) == row["text"]
        learned = hf.decode(
            [i for i, m in zip(ids, mask, strict=True) if m], clean_up_tokenization_spaces=False
        )
        assert learned == "".join(output + END for output in row["outputs"])


def test_mask_refuses_a_span_that_cuts_a_token(data: dict[str, Any]) -> None:
    hf = AutoTokenizer.from_pretrained(data["root"] / "tokenizer", local_files_only=True)
    text = data["rows"][0]["text"]
    start, end = data["rows"][0]["assistant_spans"][0]
    with pytest.raises(MaskError):
        encode_with_mask(hf, text, [(start + 3, end - 3)])  # inside `<tool_call>` and `<|im_end|>`


def test_grammar_accepts_every_expert_output(data: dict[str, Any]) -> None:
    hf = AutoTokenizer.from_pretrained(data["root"] / "tokenizer", local_files_only=True)
    result = grammar_acceptance(hf, data["rows"], [tool.to_openai() for tool in agent_tools()])
    assert result["outputs"] == sum(row["steps"] for row in data["rows"])
    assert result["accepted"] == result["outputs"], result["rejected_examples"]
    stats = json.loads((data["root"] / "tokenizer" / "stats.json").read_text())
    assert (
        stats["round_trips"] == stats["trajectories"] == 2
        and stats["grammar"]["accepted"] == result["outputs"]
    )


@pytest.mark.slow
def test_same_seed_same_trajectories(data: dict[str, Any]) -> None:
    """Everything matches except pytest's own timing line in the observations."""
    again = data["root"] / "again.jsonl"
    generate_trajectories(data["tasks"], again, seed=0, work_dir=data["root"] / "work")
    timing = re.compile(r" in \d+\.\d+s")
    for first, second in zip(data["rows"], read_trajectories(again), strict=True):
        assert first["outputs"] == second["outputs"]
        assert [e - s for s, e in first["assistant_spans"]] == [e - s for s, e in second["assistant_spans"]]
        assert timing.sub("", first["text"]) == timing.sub("", second["text"])
        assert first["patch"] == second["patch"]


@pytest.mark.slow
def test_parallel_workers_write_the_same_trajectories_in_order(data: dict[str, Any]) -> None:
    parallel = data["root"] / "parallel.jsonl"
    summary = generate_trajectories(data["tasks"], parallel, seed=0, workers=2)
    assert summary["trajectories"] == 2 and summary["workers"] == 2
    rows = read_trajectories(parallel)
    assert [r["instance_id"] for r in rows] == [r["instance_id"] for r in data["rows"]]
    assert [r["outputs"] for r in rows] == [r["outputs"] for r in data["rows"]]


def test_command_line_refuses_a_folder_without_tasks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        trajectories.main(["--tasks", str(tmp_path), "--out", str(tmp_path / "t.jsonl")])
    assert exit_info.value.code == 2 and "instances.jsonl" in capsys.readouterr().err


def test_gold_edits_widen_until_unique() -> None:
    buggy = "def f(xs):\n    for x in xs:\n        break\n    for y in xs:\n        break\n    return 1\n"
    patch = (
        "--- a/m.py\n+++ b/m.py\n@@ -3,4 +3,3 @@ def f(xs):\n"
        "         break\n     for y in xs:\n-        break\n     return 1\n"
    )
    (edit,) = gold_edits(patch, {"m.py": buggy})
    assert buggy.count(edit.old_string) == 1 and edit.line == 5
    assert edit.old_string == "    for y in xs:\n        break" and edit.new_string == "    for y in xs:"
    assert buggy.replace(edit.old_string, edit.new_string) == buggy.replace(
        "    for y in xs:\n        break\n", "    for y in xs:\n"
    )
    assert enclosing_definition(buggy, edit.line).name == "f"
    with pytest.raises(GoldPatchError, match="other.py"):
        gold_edits(patch.replace("b/m.py", "b/other.py"), {"m.py": buggy})


def test_issue_facts_come_from_the_snippet() -> None:
    facts = read_issue(
        "Wrong total\n\n```python\nfrom shop.cart import Basket\ncart = Basket()\ncart.add('pen', 2)\n"
        "print(round(cart.total(), 2))\n```\n\nExpected `2`.\n"
    )
    assert facts.module_path == "shop/cart.py"
    assert facts.calls == ("total", "add", "Basket")  # last statement first, builtins left out
    assert read_issue("no code here").snippet is None


def test_expert_stops_when_the_loop_answers_with_feedback() -> None:
    def script():
        yield tool_call("grep", pattern="x")
        yield tool_call("finish", summary="done")

    backend = ExpertBackend(script())
    conversation = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]
    assert "<function=grep>" in backend.complete(conversation, []).text
    conversation += [{"role": "assistant", "content": "x"}, {"role": "user", "content": "invalid call"}]
    with pytest.raises(ExpertError, match="invalid call"):
        backend.complete(conversation, [])


def test_tool_call_text_is_what_the_template_renders() -> None:
    call = tool_call("read_file", path="a.py", start_line=3)
    message = {
        "role": "assistant",
        "content": "Reading a.py.\n",
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "read_file", "arguments": {"path": "a.py", "start_line": 3}},
            }
        ],
    }
    rendered = render_with_spans([{"role": "user", "content": "hi"}, message], [])
    ((start, end),) = rendered.assistant_spans
    assert rendered.text[start:end] == "Reading a.py.\n" + call + END


def test_bpe_training_is_deterministic_and_spends_no_merge_on_chat_tokens() -> None:
    texts = [
        "<|im_start|>user\nfix the bug in total()<|im_end|>",
        "def total(xs):\n    return sum(xs)\n",
    ] * 20
    first, second = byte_level_bpe(texts, 400), byte_level_bpe(texts, 400)
    assert first.to_str() == second.to_str()
    vocab = first.get_vocab()
    assert not any("im_" in token for token in vocab if token not in CONTROL_TOKENS)
    assert [vocab[t] for t in CONTROL_TOKENS] == list(range(len(vocab) - 9, len(vocab) - 6))
