"""Generate one split of the task family: `instances.jsonl`, `specs.json` and the repositories they name.

Templates and bug kinds are dealt round-robin from seeded shuffles so every split is balanced; each
instance draws from its own `Random(f"{split}:{seed}:{i}")`, so one instance does not depend on how many
candidates another needed.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mimo_agent.evals.tasks.bugs import KINDS
from mimo_agent.evals.tasks.instance import materialise
from mimo_agent.evals.tasks.programs import TEMPLATES
from mimo_agent.evals.tasks.search import SearchStats, Task, find_task
from mimo_agent.evals.tasks.sites import find_sites
from mimo_agent.evals.tasks.splits import check_split, placement_split, template_functions
from mimo_agent.evals.tasks.template import ProgramTemplate, render

MAX_VARIANTS = 4
EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class GenerationError(RuntimeError):
    """No verified bug could be found for a template (the message names it and what was rejected)."""


def templates_for(split: str) -> list[ProgramTemplate]:
    """Templates that can hold a bug of `split` (a training template also serves validation placements)."""
    check_split(split)
    return [
        t
        for t in TEMPLATES.values()
        if split in {placement_split(t.name, f) for f in template_functions(t.name)}
    ]


PYTEST_REQUIREMENT = "pytest==8.4.2"  # for `pip_install`: a graded instance venv needs a test runner


def generate_split(
    split: str, count: int, seed: int, out_dir: Path, pip_install: tuple[str, ...] = ()
) -> tuple[Path, Path]:
    """Write `count` verified instances of `split` under `out_dir`; returns (instances.jsonl, specs.json).

    `out_dir/summary.json` gets the counts by template and bug kind and the verification time. Specs name
    their repositories relative to `out_dir` (`repos/INSTANCE_ID`), so the folder can be moved whole; it
    must not already hold repositories of the same ids.
    """
    out_dir = Path(out_dir)
    (out_dir / "repos").mkdir(parents=True, exist_ok=True)
    stats = SearchStats()
    started = time.monotonic()
    instances: list[dict] = []
    specs: dict[str, dict] = {}
    tasks: list[Task] = []
    for i, (template, kind) in enumerate(_deal(split, count, seed)):
        task = generate_task(template, kind, split, random.Random(f"{split}:{seed}:{i}"), stats)
        instance_id = f"mimo-tasks__{template.name}-{split}-{seed}-{i:04d}"
        when = (EPOCH + timedelta(days=seed % 1000, hours=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        instance, spec = materialise(task, instance_id, out_dir, when, pip_install)
        instances.append(instance)
        specs[instance_id] = spec
        tasks.append(task)
    instances_path = out_dir / "instances.jsonl"
    specs_path = out_dir / "specs.json"
    instances_path.write_text("".join(json.dumps(row) + "\n" for row in instances))
    specs_path.write_text(json.dumps(specs, indent=1) + "\n")
    summary = {
        "split": split,
        "seed": seed,
        "instances": len(instances),
        "by_template": dict(sorted(Counter(t.program.template for t in tasks).items())),
        "by_kind": dict(sorted(Counter(t.site.kind for t in tasks).items())),
        "test_runs": stats.test_runs,
        "verification_seconds": round(stats.seconds, 2),
        "seconds_per_instance": round((time.monotonic() - started) / max(1, len(instances)), 3),
        "rejected": dict(sorted(stats.rejected.items())),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return instances_path, specs_path


def generate_task(
    template: ProgramTemplate, kind: str, split: str, rng: random.Random, stats: SearchStats
) -> Task:
    """A verified bug of `kind` (other kinds, in seeded order, when the template cannot host it)."""
    others = sorted(set(KINDS) - {kind})
    rng.shuffle(others)
    for _ in range(MAX_VARIANTS):
        task = find_task(template, [kind, *others], split, rng, stats)
        if task is not None:
            return task
    raise GenerationError(
        f"{template.name}: no verified {split} bug after {MAX_VARIANTS} variants (rejected: {stats.rejected})"
    )


def _deal(split: str, count: int, seed: int) -> list[tuple[ProgramTemplate, str]]:
    """(template, kind) pairs: kinds round-robin, each given the next template in rotation that hosts it."""
    rng = random.Random(f"{split}:{seed}")
    templates = templates_for(split)
    hosts = {t.name: _kinds_hosted(t, split) for t in templates}
    kinds = sorted(k for k in KINDS if any(k in hosted for hosted in hosts.values()))
    dealt: list[tuple[ProgramTemplate, str]] = []
    template_order: list[ProgramTemplate] = []
    kind_order: list[str] = []
    while len(dealt) < count:
        if not kind_order:
            kind_order = rng.sample(kinds, len(kinds))
        kind = kind_order.pop()
        if not any(kind in hosts[t.name] for t in template_order):
            template_order = rng.sample(templates, len(templates)) + template_order
        template = next(t for t in reversed(template_order) if kind in hosts[t.name])
        template_order.remove(template)
        dealt.append((template, kind))
    return dealt


def _kinds_hosted(template: ProgramTemplate, split: str) -> set[str]:
    def allowed(function: str) -> bool:
        return placement_split(template.name, function) == split

    program = render(template, random.Random(0))
    return {site.kind for site in find_sites(program, KINDS, allowed)}
