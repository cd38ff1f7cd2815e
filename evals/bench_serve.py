"""`mimo-agent serve` benchmark (prints JSON; not a test). Run from the repository root.

1. Cost of serving: throughput of the same greedy chat request through the HTTP server (streamed) and
   through the engine in this process, alternating; medians over the repeats. Tokens per CPU second is
   the comparison that counts on a shared machine: this process's CPU time around `generate` against the
   server process's CPU time (from /proc) around the whole HTTP request, so the server's side includes
   parsing, the event loop, the worker-thread hand-off and SSE encoding. Wall-clock rates (client side:
   request to `[DONE]`) are reported too, but other load on the machine makes them noisy.
   Model: the engine benchmark's mini MiMo (`bench_engine.mini_config`: hidden 512, 12 layers, 16 experts,
   random weights) with its vocabulary cut to the tiny test tokenizer's ids, so every token streams text.
   Both sides run one torch thread, float32, CPU.
2. Stream conformance: many streamed requests (plain, tool calls with each tool_choice, json_schema,
   thinking) against a tiny checkpoint, every SSE event checked against OpenAI's chunk type and the
   stream rules (one role chunk first, one finish chunk, usage last, `[DONE]`, tool-call deltas that
   reassemble into schema-valid JSON, JSON answers that validate); malformed events are counted.

    .venv/bin/python -m mimo_agent.evals.bench_serve --requests 240 --repeats 7 --tokens 128
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import torch
from openai.types.chat import ChatCompletionChunk
from pydantic import ValidationError
from transformers import MiMoV2FlashConfig, MiMoV2FlashForCausalLM

from mimo_agent.engine.engine import Engine, GenerationResult
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.evals.bench_engine import mini_config
from mimo_agent.server.launch import ServerProcess

MESSAGES = [{"role": "user", "content": "Please read the file, find the failing test and fix the bug."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "Rome"]},
                "metric": {"type": "boolean"},
                "days": {"type": "integer", "enum": [1, 2, 3]},
            },
            "required": ["city", "metric"],
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"utc": {"type": "boolean"}}, "required": ["utc"]},
    },
}
ANSWER = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "size": {"enum": ["S", "M", "L"]}},
    "required": ["ok", "size"],
    "additionalProperties": False,
}


def write_checkpoint(path: Path, config: dict[str, Any]) -> Path:
    from tests.tiny_tokenizer import build_tiny_tokenizer  # the tokenizer the tests use; needs the repo root

    tokenizer = build_tiny_tokenizer(path)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    torch.manual_seed(0)
    model_config = MiMoV2FlashConfig(**{**config, "vocab_size": len(tokenizer), "eos_token_id": eos})
    MiMoV2FlashForCausalLM(model_config).to(torch.float32).save_pretrained(path)
    return path


# -- 1. serve vs in-process ---------------------------------------------------------------------------------
def in_process_run(engine: Engine, tokens: int) -> tuple[int, float, float]:
    """(tokens, wall seconds, CPU seconds) of one greedy generation in this process."""
    assert engine.tokenizer is not None
    prompt = engine.tokenizer.encode_chat(MESSAGES)
    wall, cpu = time.perf_counter(), time.process_time()
    for item in engine.generate(prompt, SamplingParams(max_new_tokens=tokens)):
        if isinstance(item, GenerationResult):
            return item.stats.generated_tokens, time.perf_counter() - wall, time.process_time() - cpu
    raise AssertionError("generate ends with a result")


def served_run(server: ServerProcess, tokens: int) -> tuple[int, float, float]:
    """(tokens, client wall seconds, server CPU seconds) of the same request, streamed over HTTP."""
    body = {
        "model": server.name,
        "messages": MESSAGES,
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    wall, cpu = time.perf_counter(), _cpu_seconds(server.process.pid)
    generated = 0
    with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                usage = json.loads(line[6:]).get("usage")
                generated = usage["completion_tokens"] if usage else generated
    return generated, time.perf_counter() - wall, _cpu_seconds(server.process.pid) - cpu


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(checkpoint: Path, tokens: int, repeats: int) -> dict[str, Any]:
    torch.set_num_threads(1)
    engine = Engine.from_pretrained(checkpoint, max_seq_len=1024)
    params = sum(p.numel() for p in engine.model.parameters())
    runs: dict[str, list[tuple[int, float, float]]] = {"in_process": [], "served": []}
    with ServerProcess(checkpoint, "--threads", "1", "--max-seq-len", "1024", name="mini") as server:
        served_run(server, 4), in_process_run(engine, 4)  # warm both
        for _ in range(repeats):
            runs["in_process"].append(in_process_run(engine, tokens))
            runs["served"].append(served_run(server, tokens))
            (n, _, _), (m, _, _) = runs["in_process"][-1], runs["served"][-1]
            assert n == m, f"greedy runs differ in length: {n} in process, {m} served"
    rates = {
        side: {
            "tokens_per_cpu_second": statistics.median(n / cpu for n, _, cpu in samples),
            "tokens_per_wall_second": statistics.median(n / wall for n, wall, _ in samples),
        }
        for side, samples in runs.items()
    }
    cost = {
        clock: round(100 * (1 - rates["served"][clock] / rates["in_process"][clock]), 2)
        for clock in ("tokens_per_cpu_second", "tokens_per_wall_second")
    }
    return {
        "model": "bench_engine.mini_config() with vocab cut to the tiny tokenizer, random weights",
        "parameters": params,
        "completion_tokens": runs["served"][0][0],
        "repeats": repeats,
        "in_process": {k: round(v, 2) for k, v in rates["in_process"].items()},
        "served": {k: round(v, 2) for k, v in rates["served"].items()},
        "serving_cost_percent": cost,
    }


# -- 2. stream conformance ---------------------------------------------------------------------------------
def request_mix(count: int) -> list[dict[str, Any]]:
    kinds = [
        {},
        {"tools": [WEATHER, CLOCK], "tool_choice": "required"},
        {"tools": [WEATHER, CLOCK], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"tools": [WEATHER, CLOCK]},
        {"tools": [WEATHER], "tool_choice": "none"},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": ANSWER}}},
        {"tools": [WEATHER], "chat_template_kwargs": {"enable_thinking": True}},
    ]
    return [{**kinds[i % len(kinds)], "seed": i, "temperature": 1.0, "max_tokens": 96} for i in range(count)]


def check_stream(lines: list[str], request: dict[str, Any]) -> list[str]:
    """Problems with one SSE stream (empty when it is well-formed)."""
    problems: list[str] = []
    events = [line for line in lines if line]
    if not events or events[-1] != "data: [DONE]" or events.count("data: [DONE]") != 1:
        problems.append("stream does not end with exactly one [DONE]")
    chunks = []
    for line in events[:-1]:
        try:
            # Strict: the client itself coerces ("1" passes as 1), so only strict checks catch a mistyped field.
            chunks.append(ChatCompletionChunk.model_validate_json(line.removeprefix("data: "), strict=True))
        except ValidationError as exc:
            problems.append(f"bad event {line[:80]!r}: {type(exc).__name__}")
    if not chunks:
        return problems + ["no chunks"]
    if chunks[0].choices[0].delta.role != "assistant":
        problems.append("first chunk carries no role")
    if len({c.id for c in chunks}) != 1:
        problems.append("chunk ids differ")
    finishes = [i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason]
    if len(finishes) != 1 or chunks[-1].usage is None or chunks[-1].choices or finishes[0] != len(chunks) - 2:
        problems.append("expected one finish chunk followed by one usage chunk")
        return problems
    usage = chunks[-1].usage
    if (
        usage.total_tokens != usage.prompt_tokens + usage.completion_tokens
        or usage.completion_tokens > request["max_tokens"]
    ):
        problems.append(f"bad usage {usage}")
    content, reasoning, calls = "", "", {}
    for c in chunks[:-1]:
        delta = c.choices[0].delta
        content += delta.content or ""
        reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
        for piece in delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"name": "", "arguments": "", "ids": 0})
            call["ids"] += piece.id is not None
            if piece.function is not None:
                call["name"] += piece.function.name or ""
                call["arguments"] += piece.function.arguments or ""
    finish = chunks[finishes[0]].choices[0].finish_reason
    problems += _check_calls(calls, request, finish)
    if "<think>" in content + reasoning or (
        "tools" in request and "<tool_call>" in content and finish != "length"
    ):
        problems.append("markup leaked into content")
    if "response_format" in request and finish == "stop":
        try:
            jsonschema.validate(json.loads(content), ANSWER)
        except (json.JSONDecodeError, jsonschema.ValidationError) as exc:
            problems.append(f"json answer invalid: {type(exc).__name__}")
    return problems


def _check_calls(calls: dict[int, dict[str, Any]], request: dict[str, Any], finish: str) -> list[str]:
    problems = []
    if sorted(calls) != list(range(len(calls))):
        problems.append(f"tool call indices {sorted(calls)}")
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in request.get("tools", [])}
    for call in calls.values():
        if call["ids"] != 1 or call["name"] not in schemas:
            problems.append(f"call header wrong: {call}")
            continue
        try:
            jsonschema.validate(json.loads(call["arguments"]), schemas[call["name"]])
        except (json.JSONDecodeError, jsonschema.ValidationError) as exc:
            problems.append(f"call arguments invalid: {type(exc).__name__}")
    if (finish == "tool_calls") != (bool(calls) and finish != "length"):
        problems.append(f"finish_reason {finish} with {len(calls)} calls")
    forced = request.get("tool_choice") not in (None, "auto", "none")
    if forced and finish == "stop":
        problems.append("a forced call is missing")
    return problems


def conformance(checkpoint: Path, count: int) -> dict[str, Any]:
    malformed_events = malformed_requests = events = calls = 0
    examples: list[str] = []
    finishes: dict[str, int] = {}
    with ServerProcess(checkpoint, "--threads", "1", name="tiny") as server:
        for request in request_mix(count):
            body = {
                "model": "tiny",
                "messages": MESSAGES,
                "stream": True,
                "stream_options": {"include_usage": True},
                **request,
            }
            with httpx.stream(
                "POST", f"{server.base_url}/chat/completions", json=body, timeout=120
            ) as response:
                lines = list(response.iter_lines())
            problems = (
                check_stream(lines, request)
                if response.status_code == 200
                else [f"HTTP {response.status_code}"]
            )
            events += sum(1 for line in lines if line)
            calls += sum(line.count('"id": "call_') for line in lines)
            finish = next(
                (
                    json.loads(line[6:])["choices"][0]["finish_reason"]
                    for line in lines
                    if '"finish_reason": "' in line
                ),
                "none",
            )
            finishes[finish] = finishes.get(finish, 0) + 1
            malformed_events += len(problems)
            malformed_requests += bool(problems)
            examples += problems[: max(0, 5 - len(examples))]
    return {
        "streamed_requests": count,
        "events": events,
        "tool_calls": calls,
        "finish_reasons": finishes,
        "malformed_events": malformed_events,
        "malformed_requests": malformed_requests,
        "examples": examples,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=240, help="streamed requests to check")
    parser.add_argument("--repeats", type=int, default=5, help="alternating throughput runs per side")
    parser.add_argument("--tokens", type=int, default=64, help="greedy tokens per throughput run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        from tests.engine.tiny_models import TINY_DEFAULTS

        mini = write_checkpoint(Path(tmp) / "mini", mini_config())
        tiny = write_checkpoint(Path(tmp) / "tiny", TINY_DEFAULTS)
        report = {
            "throughput": throughput(mini, args.tokens, args.repeats),
            "stream_conformance": conformance(tiny, args.requests),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
