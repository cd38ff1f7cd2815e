"""The program templates of the task family, by name: every module here defines one `TEMPLATE`."""

import importlib
import pkgutil

from mimo_agent.evals.tasks.template import ProgramTemplate

MODULES = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
)
TEMPLATES: dict[str, ProgramTemplate] = {module.TEMPLATE.name: module.TEMPLATE for module in MODULES}
