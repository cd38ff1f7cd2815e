"""`python -m mimo_agent.evals.tasks --split test --count 20 --seed 0 --out DIR`: generate one split.

Writes DIR/instances.jsonl, DIR/specs.json, DIR/summary.json and DIR/repos/, then prints the summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mimo_agent.evals.tasks.generate import generate_split
from mimo_agent.evals.tasks.splits import SPLITS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimo_agent.evals.tasks",
        description="Generate verified buggy-repository tasks as SWE-bench instances plus offline specs.",
    )
    parser.add_argument("--split", choices=SPLITS, required=True, help="which split to draw from")
    parser.add_argument("--count", type=int, required=True, help="number of instances to generate")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same instances")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created; must be empty)")
    parser.add_argument(
        "--pip-install",
        action="append",
        default=[],
        metavar="REQ",
        help="requirement for each spec's `pip_install` (e.g. pytest==8.4.2); repeatable; default none",
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be at least 1, got {args.count}")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty")
    generate_split(args.split, args.count, args.seed, args.out, tuple(args.pip_install))
    print(json.dumps(json.loads((args.out / "summary.json").read_text()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
