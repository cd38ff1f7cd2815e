"""Tool-call parsing on BFCL ground truths: round-trip rate per format and corruption-repair rate per shape.

Run: `.venv/bin/python -m mimo_agent.evals.bench_toolcalls_repair [--categories simple multiple ...]`.
Prints one JSON object: round-trip rate per format; corruption-repair rate overall and per shape, wrong
calls (valid calls that differ from the truth; must be 0), and the full per-shape counts. Only ground
truths that satisfy their own schema count (BFCL has some that do not, e.g. `null` for a plain string):
the calls skipped in the round trip and the questions left out of the repair suite are reported.
"""

from __future__ import annotations

import argparse
import json
import time

from mimo_agent.toolcalls.bfcl import CATEGORIES, load_bfcl_cases
from mimo_agent.toolcalls.convert import same_value
from mimo_agent.toolcalls.corruptions import run_suite
from mimo_agent.toolcalls.formats import render_hermes, render_xml
from mimo_agent.toolcalls.parser import parse
from mimo_agent.toolcalls.toolset import ToolSet
from mimo_agent.toolcalls.validate import validate_arguments


def round_trip(cases: list) -> dict:
    """Render every valid ground-truth call in each format and parse it back."""
    counts = {"calls": 0, "schema_invalid_ground_truth": 0, "xml": 0, "xml_compact": 0, "json": 0}
    for tools, calls in cases:
        tool_set = ToolSet(tools)
        for call in calls:
            schema = tool_set.schema(call["name"])
            if validate_arguments(call["arguments"], schema):
                counts["schema_invalid_ground_truth"] += 1
                continue
            counts["calls"] += 1
            texts = {
                "xml": render_xml(call["name"], call["arguments"], schema),
                "xml_compact": render_xml(call["name"], call["arguments"], schema, compact=True),
                "json": render_hermes(call["name"], call["arguments"]),
            }
            for fmt, text in texts.items():
                got = parse(text, tool_set, "json" if fmt == "json" else "xml").calls
                counts[fmt] += (
                    len(got) == 1
                    and got[0].ok
                    and not got[0].repairs
                    and got[0].name == call["name"]
                    and same_value(got[0].arguments, call["arguments"])
                )
    n = counts["calls"] or 1
    return {**counts, **{f"{f}_rate": round(counts[f] / n, 4) for f in ("xml", "xml_compact", "json")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--categories", nargs="+", default=list(CATEGORIES), help="BFCL categories (default: all)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the corruption generators")
    args = parser.parse_args()
    started = time.perf_counter()
    cases = load_bfcl_cases(args.categories)
    suite = run_suite(cases, seed=args.seed)
    for shape in suite["shapes"].values():
        shape.pop("failures")
    report = {
        "categories": args.categories,
        "questions": len(cases),
        "round_trip": round_trip(cases),
        "repair_rate": suite["rate"],
        "repair_rate_per_shape": {name: shape["rate"] for name, shape in suite["shapes"].items()},
        "wrong_calls": suite["wrong_calls"],
        "excluded_questions_invalid_ground_truth": suite["excluded_questions"],
        "repair": suite,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
