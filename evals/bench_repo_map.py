"""Repo map speed on a synthetic multi-language repository; prints one JSON object.

    .venv/bin/python -m mimo_agent.evals.bench_repo_map [--files 2000] [--repeats 3]

The repository (a git work tree with untracked files, so `git ls-files` is used) holds modules in the eight
mapped languages; each defines a class, functions and a constant, and calls definitions of a few other
modules, so the reference graph is connected like a real code base. Measured:
  cold       first map, empty cache: list, parse every file, rank, render (goal <= 3 s); cold_cpu is its
             CPU time, which other processes on a shared machine do not inflate (load_average says how busy);
  warm       the same RepoMapper again, nothing changed (goal <= 0.3 s), best of --repeats;
  warm_other_focus  the same RepoMapper, nothing changed but the focus (so it ranks again), best of 3;
  warm_disk  a new RepoMapper on the sqlite cache left by the cold run (a new agent process), best of --repeats;
  one_edit   the same RepoMapper after one file's mtime changed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mimo_agent.tools.repo_map.mapper import RepoMapper

LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp")
FUNCTIONS_PER_FILE = 12
CALLS_PER_FUNCTION = 3


def _module(language: str, index: int, rng: random.Random, total: int) -> tuple[str, str]:
    """(relative path, source) of module `index`; calls go to functions of other modules."""
    name = f"m{index:05d}"
    callees = [f"fn_{rng.randrange(total):05d}_{rng.randrange(FUNCTIONS_PER_FILE)}" for _ in range(64)]
    functions = [f"fn_{index:05d}_{k}" for k in range(FUNCTIONS_PER_FILE)]

    def calls(k: int, fmt: str) -> str:
        return "".join(fmt.format(callees[(k * CALLS_PER_FUNCTION + j) % len(callees)]) for j in range(3))

    cls = f"Widget{index:05d}"
    if language == "python":
        body = [
            f"LIMIT_{index} = {index}\n\n",
            f"class {cls}:\n    def run(self, x: int) -> int:\n        return x\n\n",
        ]
        body += [
            f"def {f}(x):\n    y = x + 1\n{calls(k, '    y = {}(y)' + chr(10))}    return y\n\n"
            for k, f in enumerate(functions)
        ]
        return f"pkg{index % 40}/{name}.py", "".join(body)
    if language in ("javascript", "typescript"):
        typed = ": number" if language == "typescript" else ""
        body = [f"export class {cls} {{\n  run(x{typed}){typed} {{\n    return x;\n  }}\n}}\n\n"]
        body += [
            f"export function {f}(x{typed}){typed} {{\n  let y = x + 1;\n{calls(k, '  y = {}(y);' + chr(10))}"
            f"  return y;\n}}\n\n"
            for k, f in enumerate(functions)
        ]
        ext = "ts" if language == "typescript" else "js"
        return f"web{index % 40}/{name}.{ext}", "".join(body)
    if language == "go":
        body = [
            f"package p{index % 40}\n\ntype {cls} struct {{\n\tSize int\n}}\n\n",
            f"func (w *{cls}) Run(x int) int {{\n\treturn x + w.Size\n}}\n\n",
        ]
        body += [
            f"func {f}(x int) int {{\n\ty := x + 1\n{calls(k, chr(9) + 'y = {}(y)' + chr(10))}\treturn y\n}}\n\n"
            for k, f in enumerate(functions)
        ]
        return f"go{index % 40}/{name}.go", "".join(body)
    if language == "rust":
        body = [
            f"pub struct {cls} {{\n    size: i64,\n}}\n\n",
            f"impl {cls} {{\n    pub fn run(&self, x: i64) -> i64 {{\n        x + self.size\n    }}\n}}\n\n",
        ]
        body += [
            f"pub fn {f}(x: i64) -> i64 {{\n    let mut y = x + 1;\n{calls(k, '    y = {}(y);' + chr(10))}"
            f"    y\n}}\n\n"
            for k, f in enumerate(functions)
        ]
        return f"rs{index % 40}/{name}.rs", "".join(body)
    if language == "java":
        body = [f"public class {cls} {{\n    private int size;\n\n"]
        body += [
            f"    public static int {f}(int x) {{\n        int y = x + 1;\n"
            f"{calls(k, '        y = Lib.{}(y);' + chr(10))}        return y;\n    }}\n\n"
            for k, f in enumerate(functions)
        ]
        return f"java{index % 40}/{cls}.java", "".join(body) + "}\n"
    prefix = "" if language == "c" else f"namespace n{index % 40} {{\n\n"
    suffix = "" if language == "c" else "}\n"
    body = [prefix, f"typedef struct {cls} {{\n    int size;\n}} {cls};\n\n"]
    body += [
        f"int {f}(int x) {{\n    int y = x + 1;\n{calls(k, '    y = {}(y);' + chr(10))}    return y;\n}}\n\n"
        for k, f in enumerate(functions)
    ]
    ext = "c" if language == "c" else "cpp"
    return f"native{index % 40}/{name}.{ext}", "".join(body) + suffix


def make_repository(root: Path, files: int, seed: int = 0) -> int:
    """Write the synthetic repository; returns its size in bytes."""
    rng = random.Random(seed)
    size = 0
    for index in range(files):
        rel, source = _module(LANGUAGES[index % len(LANGUAGES)], index, rng, files)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        size += len(source)
    (root / ".gitignore").write_text("ignored/\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    return size


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=1024)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        size = make_repository(root, args.files)
        focus = "pkg8/m00008.py"
        mapper = RepoMapper(root)
        cpu_start = time.process_time()
        cold, first = _timed(lambda: mapper.build(focus, args.max_tokens))
        cold_cpu = time.process_time() - cpu_start
        warm = min(_timed(lambda: mapper.build(focus, args.max_tokens))[0] for _ in range(args.repeats))
        other_focus = min(
            _timed(lambda i=i: mapper.build(f"pkg{i}/m{i:05d}.py", args.max_tokens))[0] for i in (16, 24, 32)
        )
        warm_disk = min(
            _timed(lambda: RepoMapper(root).build(focus, args.max_tokens))[0] for _ in range(args.repeats)
        )
        edited = root / focus
        os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 1_000_000))
        one_edit, after_edit = _timed(lambda: mapper.build(focus, args.max_tokens))
    result = {
        "files": first.files,
        "bytes": size,
        "cpus": os.cpu_count(),
        "max_tokens": args.max_tokens,
        "definitions_shown": first.definitions_shown,
        "cold_s": round(cold, 3),
        "cold_cpu_s": round(cold_cpu, 3),
        "warm_s": round(warm, 3),
        "warm_other_focus_s": round(other_focus, 3),
        "warm_disk_s": round(warm_disk, 3),
        "one_edit_s": round(one_edit, 3),
        "one_edit_parsed": after_edit.parsed,
        "goal_cold_s": 3.0,
        "goal_warm_s": 0.3,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
