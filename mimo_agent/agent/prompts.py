"""System and task prompts rendered from templates (templates/*.jinja), with facts about the repository."""

from __future__ import annotations

import datetime as dt
import subprocess
from functools import cache
from pathlib import Path

import jinja2

AGENTS_FILE = "AGENTS.md"
MAX_AGENTS_CHARS = 8_000
MAX_TOP_LEVEL = 40


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mimo_agent.agent", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def _git(workspace: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=workspace, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def repository_facts(workspace: Path) -> list[str]:
    facts: list[str] = []
    head = _git(workspace, "rev-parse", "--short", "HEAD")
    if head:
        branch = _git(workspace, "rev-parse", "--abbrev-ref", "HEAD") or "?"
        facts.append(f"git repository, branch {branch}, HEAD {head}")
    entries = sorted(
        p.name + ("/" if p.is_dir() else "") for p in workspace.iterdir() if not p.name.startswith(".")
    )
    shown = ", ".join(entries[:MAX_TOP_LEVEL]) + (
        f", … ({len(entries) - MAX_TOP_LEVEL} more)" if len(entries) > MAX_TOP_LEVEL else ""
    )
    facts.append(f"top level: {shown or '(empty)'}")
    return facts


def read_agents_md(workspace: Path) -> str | None:
    path = workspace / AGENTS_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if len(text) > MAX_AGENTS_CHARS:
        text = text[:MAX_AGENTS_CHARS] + f"\n[… {AGENTS_FILE} cut at {MAX_AGENTS_CHARS} characters]"
    return text


def system_prompt(workspace: Path, today: dt.date | None = None) -> str:
    return (
        _environment()
        .get_template("system.jinja")
        .render(
            workspace=workspace.resolve().name,
            date=(today or dt.date.today()).isoformat(),
            facts=repository_facts(workspace),
            agents_md=read_agents_md(workspace),
        )
        .strip()
    )


def task_prompt(task: str) -> str:
    return _environment().get_template("task.jinja").render(task=task.strip()).strip()
