"""The program templates of the task family, by name."""

from mimo_agent.evals.tasks.programs import (
    bank_ledger,
    config_parser,
    date_ranges,
    grade_book,
    interval_merge,
    inventory,
    library_loans,
    matrix_ops,
    polynomial,
    queue_sim,
    shopping_cart,
    string_utils,
    temperature_log,
    text_stats,
    todo_list,
    unit_converter,
)
from mimo_agent.evals.tasks.template import ProgramTemplate

MODULES = (
    bank_ledger,
    config_parser,
    date_ranges,
    grade_book,
    interval_merge,
    inventory,
    library_loans,
    matrix_ops,
    polynomial,
    queue_sim,
    shopping_cart,
    string_utils,
    temperature_log,
    text_stats,
    todo_list,
    unit_converter,
)
TEMPLATES: dict[str, ProgramTemplate] = {module.TEMPLATE.name: module.TEMPLATE for module in MODULES}
