"""The `repo_map` tool as the loop calls it: raw arguments through the ToolDef handler with a ToolContext."""

from __future__ import annotations

import sys
from pathlib import Path

from mimo_agent.tools.context import ToolContext
from mimo_agent.tools.languages import load_language
from mimo_agent.tools.repo_map import REPO_MAP, languages
from mimo_agent.tools.result import ToolResult


def call(context: ToolContext, **arguments) -> ToolResult:
    result = REPO_MAP.handler(arguments, context)
    assert isinstance(result, ToolResult)
    return result


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_definition_names_the_api_parameters() -> None:
    assert REPO_MAP.name == "repo_map"
    properties = REPO_MAP.parameters["properties"]
    assert set(properties) == {"focus", "max_tokens"}
    assert properties["max_tokens"]["default"] == 1024
    assert REPO_MAP.parameters.get("required", []) == []


def test_map_of_the_repository(ctx: ToolContext) -> None:
    write(ctx.root, "src/models.py", "class Account:\n    def deposit(self, amount):\n        pass\n")
    write(
        ctx.root,
        "src/service.py",
        "from src.models import Account\n\n\ndef open_account():\n    return Account()\n",
    )
    result = call(ctx)
    assert not result.is_error
    assert "src/models.py:\n" in result.output and "1│class Account:" in result.output
    assert "def add(a, b):" in result.output  # src/app.py of the fixture repository
    assert result.metadata["files"] == 3 and result.metadata["definitions_shown"] >= 4


def test_second_call_uses_the_cache(ctx: ToolContext) -> None:
    first = call(ctx)
    second = call(ctx)
    assert first.metadata["parsed"] == 1 and second.metadata["parsed"] == 0
    assert second.output == first.output


def test_focus_list_and_text(ctx: ToolContext) -> None:
    assert not call(ctx, focus=["src/app.py"]).is_error
    assert not call(ctx, focus="look at add in src/app.py").is_error


def test_unknown_focus_path_is_noted(ctx: ToolContext) -> None:
    result = call(ctx, focus=["src/nope.py"])
    assert not result.is_error
    assert result.output.startswith("[note: focus paths not in the map") and "src/nope.py" in result.output


def test_focus_outside_the_workspace_is_an_error(ctx: ToolContext) -> None:
    result = call(ctx, focus="../../etc/passwd")
    assert result.is_error and "outside the workspace" in result.output


def test_invalid_arguments_are_an_error(ctx: ToolContext) -> None:
    result = call(ctx, max_tokens=10)
    assert result.is_error and "max_tokens" in result.output
    assert call(ctx, focus=42).is_error


def test_empty_workspace(tmp_path: Path) -> None:
    context = ToolContext.create(tmp_path)
    result = call(context)
    assert not result.is_error and "No source files" in result.output


def test_unusable_cache_folder_falls_back_to_memory(ctx: ToolContext) -> None:
    (ctx.root / ".mimo-agent").write_text("not a folder")
    result = call(ctx)
    assert not result.is_error
    assert result.output.startswith("[note: tag cache not used") and "def add(a, b):" in result.output


def test_missing_grammar_package_is_a_clear_error(ctx: ToolContext, monkeypatch) -> None:
    """Stands in for a broken install: the Go grammar wheel cannot be imported."""
    write(ctx.root, "main.go", "package main\n\nfunc main() {}\n")
    caches = (languages.grammar, load_language)
    for cached in caches:
        cached.cache_clear()
    monkeypatch.setitem(sys.modules, "tree_sitter_go", None)  # makes `import tree_sitter_go` fail
    try:
        result = call(ctx)
    finally:
        for cached in caches:
            cached.cache_clear()
    assert result.is_error and "pip install tree-sitter-go" in result.output
