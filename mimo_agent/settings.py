"""Agent settings from five layers: the checkpoint's `mimo-agent.toml`, project `.mimo-agent.toml`, user
config, environment, flags (later wins).

A checkpoint directory may carry the settings its model was trained to run with (the tools it knows, a
fixed prompt date); they are the lowest layer, read from the `model.path` the other layers settle on.

Each layer is a nested dict of `section -> key -> value`; they are merged key by key and validated once
with pydantic, so a bad key or value is reported with the file (or variable) it came from.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROJECT_FILE = ".mimo-agent.toml"
CHECKPOINT_FILE = "mimo-agent.toml"  # inside a checkpoint directory
ENV_PREFIX = "MIMO_AGENT_"


class SettingsError(Exception):
    """A config file, variable or flag has an unknown key or a bad value; the message names key and source."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Section):
    backend: Literal["embedded", "transformers", "openai", "replay"] = "embedded"
    path: str | None = Field(None, description="checkpoint directory (embedded, transformers)")
    replay: str | None = Field(None, description="JSON Lines file of raw assistant outputs (replay backend)")
    base_url: str | None = Field(None, description="OpenAI-compatible server URL (openai backend)")
    model_name: str | None = Field(None, description="model name sent to the server (openai backend)")
    context_window: int = Field(262_144, gt=0)
    answer_reserve: int = Field(8_192, ge=0)
    max_new_tokens: int = Field(4_096, gt=0)
    temperature: float = Field(0.3, ge=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    enable_thinking: bool = False
    keep_fp8: bool = Field(False, description="keep an FP8 checkpoint's weights FP8 in memory (embedded)")
    weight_dtype: Literal["float32", "bfloat16"] | None = Field(
        None,
        description="store the matrix weights in this dtype, computing in float32 (embedded); bfloat16 "
        "halves the memory each decoded token reads",
    )
    tool_format: Literal["xml", "json"] = "xml"
    tool_choice: Literal["auto", "required"] = Field(
        "auto", description="'required' makes the grammar demand a tool call every turn (local backends)"
    )


class BudgetSettings(_Section):
    max_steps: int = Field(100, gt=0)
    max_tokens: int = Field(5_000_000, gt=0, description="prompt + completion tokens over the run")
    max_wall_seconds: float = Field(3_600.0, gt=0.0)
    max_consecutive_invalid: int = Field(
        3, gt=0, description="invalid tool calls in a row before the run stops"
    )
    max_repeated_calls: int = Field(3, gt=1, description="identical calls in a row before a nudge")


class PermissionSettings(_Section):
    mode: Literal["read-only", "ask", "auto-edit", "yolo"] = "ask"
    allow: list[str] = Field(default_factory=list, description="bash command patterns always allowed")
    deny: list[str] = Field(default_factory=list, description="bash command patterns always refused")


class ContextSettings(_Section):
    date: dt.date | None = Field(
        None,
        description="date the system prompt states (YYYY-MM-DD); default today, fix it for repeatable runs",
    )
    compaction_threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="share of the budget that triggers it"
    )
    keep_recent_turns: int = Field(6, ge=1)
    observation_max_tokens: int = Field(6_000, gt=0)


class ToolSettings(_Section):
    bash_timeout: float = Field(120.0, gt=0.0)
    max_output_chars: int = Field(30_000, gt=0)
    enabled: list[str] | None = Field(
        None, description="offer only these tools (names, prompt order kept); default all; `finish` always"
    )


class Settings(_Section):
    model: ModelSettings = Field(default_factory=ModelSettings)
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    permissions: PermissionSettings = Field(default_factory=PermissionSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)


@dataclass
class LoadedSettings:
    settings: Settings
    sources: dict[str, str] = field(default_factory=dict)  # "section.key" -> where its value came from


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mimo-agent" / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror}") from exc


def _env_layers(environ: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """`MIMO_AGENT_BUDGETS__MAX_STEPS=50` → ("environment (MIMO_AGENT_BUDGETS__MAX_STEPS)", {"budgets": {"max_steps": 50}}).

    One layer per variable, so an error names the variable; values parse as TOML when they can.
    """
    layers: list[tuple[str, dict[str, Any]]] = []
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        layers.append((f"environment ({name})", {section: {key: value}}))
    return layers


def _merge(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    merged: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    known = Settings.model_fields
    for source, layer in layers:
        for section, values in layer.items():
            if section not in known:
                raise SettingsError(
                    f"{source}: unknown section {section!r} (expected one of {', '.join(known)})"
                )
            if not isinstance(values, dict):
                raise SettingsError(f"{source}: {section!r} must be a table of keys")
            section_fields = known[section].annotation.model_fields  # type: ignore[union-attr]
            for key, value in values.items():
                if key not in section_fields:
                    raise SettingsError(
                        f"{source}: unknown key {section}.{key} (expected one of {', '.join(section_fields)})"
                    )
                merged.setdefault(section, {})[key] = value
                sources[f"{section}.{key}"] = source
    return merged, sources


def load_settings(
    workspace: Path | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Merge project file < user file < environment < flags and validate; flags hold only values the user set."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    if workspace is not None and (workspace / PROJECT_FILE).is_file():
        layers.append((str(workspace / PROJECT_FILE), _read_toml(workspace / PROJECT_FILE)))
    user = user_config_path(environ)
    if user.is_file():
        layers.append((str(user), _read_toml(user)))
    layers.extend(_env_layers(environ))
    layers.append(("command line", {k: dict(v) for k, v in (flags or {}).items()}))
    merged, sources = _merge(layers)
    model_path = merged.get("model", {}).get("path")
    if isinstance(model_path, str) and (Path(model_path) / CHECKPOINT_FILE).is_file():
        checkpoint = Path(model_path) / CHECKPOINT_FILE
        merged, sources = _merge([(str(checkpoint), _read_toml(checkpoint)), *layers])
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        dotted = ".".join(str(p) for p in first["loc"][:2])
        raise SettingsError(f"{sources.get(dotted, 'defaults')}: {dotted}: {first['msg']}") from exc
    return LoadedSettings(settings=settings, sources=sources)
