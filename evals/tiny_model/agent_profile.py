"""The agent settings the demo model is trained and run with, shipped in its checkpoint as `mimo-agent.toml`.

A 10M-parameter model only knows the tools its trajectories use, so only those are offered (every tool
definition costs prompt tokens on every step), and the prompt's date is fixed so that what the model
reads at run time is what it was trained on. Greedy decoding and a call demanded every turn make runs
repeatable and keep the model inside the format.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from mimo_agent.settings import CHECKPOINT_FILE

SETTINGS_TOML = """\
# Settings this checkpoint was trained to run with: the lowest layer of mimo-agent's settings, so a
# project file, the user config, the environment or a flag still overrides any of them.
[tools]
enabled = ["read_file", "grep", "repo_map", "edit", "bash", "finish"]

[context]
date = 2026-01-01

[model]
temperature = 0.0
max_new_tokens = 400
context_window = 8192
answer_reserve = 512
tool_choice = "required"
"""


def agent_flags() -> dict[str, Any]:
    """The profile as a settings layer (nested dict)."""
    return tomllib.loads(SETTINGS_TOML)


def write_profile(checkpoint: Path) -> Path:
    path = checkpoint / CHECKPOINT_FILE
    path.write_text(SETTINGS_TOML, encoding="utf-8")
    return path
