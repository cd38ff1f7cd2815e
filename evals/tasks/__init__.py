"""A generated task family: small buggy Python repositories as SWE-bench instances (issue 9, item 1).

`generate_split(split, count, seed, out_dir)` writes `instances.jsonl` (the dataset's 12 fields),
`specs.json` (offline specs with `path` sources) and the git repositories they name; `check_instance`
re-grades one instance with its gold patch. Command line: `python -m mimo_agent.evals.tasks --help`.
"""

from mimo_agent.evals.tasks.check import CheckResult, check_instance
from mimo_agent.evals.tasks.generate import PYTEST_REQUIREMENT, GenerationError, generate_split, templates_for

__all__ = [
    "PYTEST_REQUIREMENT",
    "CheckResult",
    "GenerationError",
    "check_instance",
    "generate_split",
    "templates_for",
]
