"""What a run offers the model: the tool subset and the prompt's date come from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.agent.runner import RunRequest, agent_tools, prepare_run
from mimo_agent.settings import SettingsError
from tests.agent.replay_repo import make_buggy_repo


def test_enabled_tools_keep_prompt_order_and_always_include_finish() -> None:
    names = [tool.name for tool in agent_tools(["bash", "read_file"])]
    assert names == ["read_file", "bash", "finish"]
    assert len(agent_tools()) > len(names)


def test_an_unknown_enabled_tool_is_named() -> None:
    with pytest.raises(SettingsError, match="red_file.*known: read_file"):
        agent_tools(["red_file"])


def test_a_run_uses_the_enabled_tools_and_the_fixed_date(tmp_path: Path) -> None:
    repo = make_buggy_repo(tmp_path / "repo")
    flags = {"tools": {"enabled": ["grep", "edit"]}, "context": {"date": "2025-02-03"},
             "model": {"backend": "replay", "replay": str(tmp_path / "none.jsonl")}}  # fmt: skip
    (tmp_path / "none.jsonl").write_text("")
    prepared = prepare_run(RunRequest(repo, "task", flags=flags, environ={"XDG_CONFIG_HOME": str(tmp_path)}))
    try:
        assert [tool.name for tool in prepared.agent.tools] == ["grep", "edit", "finish"]
        prepared.agent.run("task")
        assert "Today's date: 2025-02-03." in prepared.agent.messages[0]["content"]
    finally:
        prepared.close()
