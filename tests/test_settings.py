"""Layered settings: project < user < environment < flags, with errors naming key and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_agent.cli.main import main
from mimo_agent.settings import SettingsError, load_settings


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **extra}


def _user_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "xdg" / "mimo-agent" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_later_layers_win(tmp_path: Path) -> None:
    (tmp_path / ".mimo-agent.toml").write_text(
        "[budgets]\nmax_steps = 10\nmax_tokens = 1000\n[model]\ntop_p = 0.5\n"
    )
    _user_file(tmp_path, "[budgets]\nmax_steps = 20\n")
    env = _env(tmp_path, MIMO_AGENT_BUDGETS__MAX_TOKENS="2000", MIMO_AGENT_MODEL__BACKEND="replay")
    loaded = load_settings(tmp_path, flags={"model": {"backend": "openai"}}, environ=env)
    s = loaded.settings
    assert s.budgets.max_steps == 20  # user beats project
    assert s.budgets.max_tokens == 2000  # environment beats project
    assert s.model.backend == "openai"  # flags beat environment
    assert s.model.top_p == 0.5  # project still applies where nobody overrides
    assert loaded.sources["budgets.max_steps"].endswith("config.toml")
    assert loaded.sources["model.backend"] == "command line"


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    (tmp_path / ".mimo-agent.toml").write_text("[budgets]\nmax_stepz = 10\n")
    with pytest.raises(SettingsError) as err:
        load_settings(tmp_path, environ=_env(tmp_path))
    assert "budgets.max_stepz" in str(err.value)
    assert ".mimo-agent.toml" in str(err.value)


def test_bad_value_names_key_and_source(tmp_path: Path) -> None:
    env = _env(tmp_path, MIMO_AGENT_PERMISSIONS__MODE="sometimes")
    with pytest.raises(SettingsError) as err:
        load_settings(tmp_path, environ=env)
    assert "permissions.mode" in str(err.value)
    assert "environment (MIMO_AGENT_PERMISSIONS__MODE)" in str(err.value)


def test_environment_errors_name_the_variable(tmp_path: Path) -> None:
    """Regression: an error from a variable said only "environment", not which of them."""
    env = _env(tmp_path, MIMO_AGENT_MODEL__BACKEND="replay", MIMO_AGENT_LIMITS__MAX_STEPS="5")
    with pytest.raises(SettingsError, match=r"environment \(MIMO_AGENT_LIMITS__MAX_STEPS\): unknown section"):
        load_settings(tmp_path, environ=env)
    env = _env(tmp_path, MIMO_AGENT_BUDGETS__MAX_STEPZ="5")
    with pytest.raises(SettingsError, match=r"environment \(MIMO_AGENT_BUDGETS__MAX_STEPZ\): unknown key"):
        load_settings(tmp_path, environ=env)
    loaded = load_settings(tmp_path, environ=_env(tmp_path, MIMO_AGENT_BUDGETS__MAX_STEPS="7"))
    assert loaded.sources["budgets.max_steps"] == "environment (MIMO_AGENT_BUDGETS__MAX_STEPS)"


def test_unknown_section_and_bad_toml(tmp_path: Path) -> None:
    _user_file(tmp_path, "[modle]\nbackend = 'x'\n")
    with pytest.raises(SettingsError, match="unknown section 'modle'"):
        load_settings(tmp_path, environ=_env(tmp_path))
    (tmp_path / ".mimo-agent.toml").write_text("[model\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(tmp_path, environ=_env(tmp_path))


def test_config_show_cli(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / ".mimo-agent.toml").write_text("[permissions]\nmode = 'yolo'\n")
    assert main(["config", "show", "--repo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert 'mode = "yolo"  # ' + str(tmp_path / ".mimo-agent.toml") in out
    (tmp_path / ".mimo-agent.toml").write_text("[permissions]\nmode = 'never'\n")
    assert main(["config", "show", "--repo", str(tmp_path)]) == 2
    assert "permissions.mode" in capsys.readouterr().err


def test_a_checkpoint_carries_its_own_settings_as_the_lowest_layer(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "mimo-agent.toml").write_text(
        '[tools]\nenabled = ["read_file", "bash"]\n[context]\ndate = 2026-01-01\n[model]\ntemperature = 0.0\ntop_p = 0.5\n'
    )
    (tmp_path / ".mimo-agent.toml").write_text("[model]\ntop_p = 0.9\n")
    loaded = load_settings(tmp_path, flags={"model": {"path": str(checkpoint)}}, environ=_env(tmp_path))
    s = loaded.settings
    assert s.tools.enabled == ["read_file", "bash"]
    assert s.context.date.isoformat() == "2026-01-01"
    assert s.model.temperature == 0.0  # from the checkpoint
    assert s.model.top_p == 0.9  # the project file beats the checkpoint
    assert loaded.sources["tools.enabled"].endswith("mimo-agent.toml")
    assert load_settings(tmp_path, environ=_env(tmp_path)).settings.tools.enabled is None  # no model.path


def test_a_bad_checkpoint_setting_names_the_checkpoint_file(tmp_path: Path) -> None:
    (tmp_path / "mimo-agent.toml").write_text("[context]\ndate = 'soon'\n")
    with pytest.raises(SettingsError, match=r"mimo-agent\.toml: context\.date"):
        load_settings(tmp_path / "nowhere", flags={"model": {"path": str(tmp_path)}}, environ=_env(tmp_path))
