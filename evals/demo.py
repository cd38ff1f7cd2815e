"""`make demo`: the most complete real path that exists until the project's trained tiny model lands.

1. A held-out buggy repository from the task family, with its issue text.
2. `fix-issue` with the embedded engine on a tiny random-weight MiMo checkpoint (global + sliding-window
   layers with sinks, MoE): every call it makes is grammar-constrained and runs through the real parser,
   permissions and tools — but random weights cannot fix a bug, and the demo says so.
3. The same run with the scripted expert solver (the one that writes training trajectories) as the model,
   then the SWE-bench-style harness grading its patch.

Run: `python -m mimo_agent.evals.demo [--out DIR] [--seed N]`. Prints a JSON summary at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from mimo_agent.agent import events as ev
from mimo_agent.agent.runner import RunRequest, RunResult, run_headless
from mimo_agent.cli.fix_issue import event_printer
from mimo_agent.engine.config import ModelConfig
from mimo_agent.evals.swebench.dataset import load_instances
from mimo_agent.evals.swebench.grade import GradeOptions, grade_predictions
from mimo_agent.evals.swebench.predictions import Prediction
from mimo_agent.evals.swebench.specs import load_specs
from mimo_agent.evals.tasks import generate_split
from mimo_agent.evals.tiny_model.episode import load_case
from mimo_agent.evals.tiny_model.expert import ExpertBackend
from mimo_agent.evals.tiny_model.solver import Solver
from mimo_agent.evals.tiny_model.tokenizer import save_tokenizer, train_tokenizer

PYTEST = "pytest==8.4.2"  # the graded instance's own venv needs a test runner

# A small model with the real layout's ingredients: global layers at 0 and 5, sliding windows with
# sinks elsewhere, MoE after layer 0, asymmetric q/k and v heads, partial RoPE.
RANDOM_MODEL = dict(
    hidden_size=128,
    intermediate_size=256,
    moe_intermediate_size=64,
    num_hidden_layers=6,
    num_attention_heads=4,
    num_key_value_heads=1,
    head_dim=48,
    v_head_dim=32,
    n_routed_experts=8,
    num_experts_per_tok=2,
    sliding_window_size=64,
    max_position_embeddings=16384,
    bos_token_id=None,
    pad_token_id=None,
    tie_word_embeddings=False,
)


def say(text: str) -> None:
    print(f"\n=== {text}", file=sys.stderr, flush=True)


def random_checkpoint(directory: Path, corpus: list[str], seed: int) -> Path:
    """Tokenizer trained on the task's code, plus random weights saved by transformers (the real format)."""
    from transformers import MiMoV2FlashConfig, MiMoV2FlashForCausalLM

    tokenizer = train_tokenizer(corpus, vocab_size=1024)
    save_tokenizer(tokenizer, directory)
    torch.manual_seed(seed)
    config = MiMoV2FlashConfig(
        **RANDOM_MODEL, vocab_size=len(tokenizer), eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>")
    )
    MiMoV2FlashForCausalLM(config).save_pretrained(directory)
    return directory


def copy_repo(source: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def embedded_run(repo: Path, task: str, model: Path, work: Path) -> dict[str, Any]:
    stats: list[dict[str, Any]] = []
    calls = {"valid": 0, "invalid": 0}
    printer = event_printer(as_json=False)

    def on_event(event: ev.Event) -> None:
        printer(event)
        if isinstance(event, ev.AssistantMessage):
            stats.append(event.stats)
        elif isinstance(event, ev.ToolCallParsed):
            calls["valid"] += 1
        elif isinstance(event, ev.ToolCallInvalid):
            calls["invalid"] += 1

    flags = {
        "model": {"backend": "embedded", "path": str(model), "max_new_tokens": 96, "temperature": 0.8,
                  "tool_choice": "required"},  # the grammar demands a call each turn
        "budgets": {"max_steps": 4},
        "permissions": {"mode": "auto-edit"},
    }
    result = run_headless(RunRequest(repo, task, flags=flags, trajectory_path=work / "embedded-trajectory.json"),
                          on_event=on_event)
    speeds = [s["tokens_per_second"] for s in stats if s.get("tokens_per_second")]
    accepted = [s["mtp_accepted_length"] for s in stats if s.get("mtp_accepted_length")]
    return {
        "outcome": result.outcome.kind.value,
        "steps": result.steps,
        "tool_calls_valid": calls["valid"],
        "tool_calls_invalid": calls["invalid"],
        "decode_tokens_per_second": round(sum(speeds) / len(speeds), 1) if speeds else None,
        # transformers' save_pretrained drops MTP tensors, so this random checkpoint has no heads (None)
        "mtp_accepted_length": round(sum(accepted) / len(accepted), 2) if accepted else None,
        "patch_lines": len(result.patch.splitlines()),
    }


def expert_run(repo: Path, instance: dict[str, Any], work: Path, seed: int) -> RunResult:
    backend = ExpertBackend(Solver(load_case(instance, repo), random.Random(seed)).script())
    flags = {"permissions": {"mode": "yolo"}}
    request = RunRequest(repo, instance["problem_statement"], flags=flags, trajectory_path=work / "expert-trajectory.json")
    return run_headless(request, on_event=event_printer(as_json=False), backend=backend)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimo_agent.evals.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="where to keep the demo's files (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="mimo-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # tiny matmuls: threads only add contention

    say("1/4 a held-out buggy repository from the task family (test split: programs never trained on)")
    instances_path, specs_path = generate_split("test", 1, args.seed, work / "tasks", pip_install=(PYTEST,))
    instance = json.loads(instances_path.read_text().splitlines()[0])
    spec = json.loads(specs_path.read_text())[instance["instance_id"]]
    source = work / "tasks" / spec["source"]["path"]
    print(instance["problem_statement"], file=sys.stderr)

    say("2/4 fix-issue with the EMBEDDED ENGINE on a tiny RANDOM-WEIGHT MiMo checkpoint "
        "(grammar-constrained calls; random weights cannot fix the bug)")
    corpus = [p.read_text() for p in sorted(source.rglob("*.py"))] * 4
    model = random_checkpoint(work / "random-mimo", corpus, args.seed)
    total, active = ModelConfig.from_file(model).parameter_counts()
    print(f"checkpoint {model}: {total:,} parameters, {active:,} active per token", file=sys.stderr)
    embedded = embedded_run(copy_repo(source, work / "repo-embedded"), instance["problem_statement"], model, work)

    say("3/4 the same fix-issue with the SCRIPTED EXPERT as the model (same loop, parser and tools)")
    expert = expert_run(copy_repo(source, work / "repo-expert"), instance, work, args.seed)
    print(expert.patch, file=sys.stderr)

    say("4/4 grading the expert's patch with the SWE-bench-style harness (instance venv, hidden tests)")
    instances = load_instances(str(instances_path))
    prediction = Prediction(instance["instance_id"], "mimo-agent/scripted-expert", expert.patch)
    graded = grade_predictions(
        instances, {prediction.instance_id: prediction}, load_specs(specs_path),
        GradeOptions(output=work / "grading", run_id="demo"),
    )
    summary = {
        "work_dir": str(work),
        "instance": instance["instance_id"],
        "embedded_random_model": embedded,
        "scripted_expert": {
            "outcome": expert.outcome.kind.value,
            "steps": expert.steps,
            "resolved": graded.report.get("resolved_instances", 0) == 1,
        },
        "note": "random weights: the trained tiny MiMo model (issue 9) will replace the random checkpoint",
    }
    print(json.dumps(summary, indent=2))
    return 0 if summary["scripted_expert"]["resolved"] else 1


if __name__ == "__main__":
    sys.exit(main())
