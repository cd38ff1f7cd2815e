"""A temporary git repository with a failing test, and replay outputs that fix it through the real tools."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def make_buggy_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def call(name: str, **arguments: object) -> str:
    params = "".join(
        f"<parameter={k}>{v if isinstance(v, str) else json.dumps(v)}</parameter>\n"
        for k, v in arguments.items()
    )
    return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"


FIXING_OUTPUTS = [
    "Let me look at the code first.\n" + call("read_file", path="calc.py"),
    call("edit", path="calc.py", old_string="return a - b", new_string="return a + b"),
    call("bash", command="python -m pytest -q test_calc.py"),
    call("finish", summary="add() subtracted; it now adds. test_calc passes."),
]


def write_replay(path: Path, outputs: list[str]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in outputs))
    return path
