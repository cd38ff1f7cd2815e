"""ModelConfig: both config.json spellings, derived sizes, and errors that name the field and the file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from mimo_agent.engine.config import GLOBAL, SLIDING, ModelConfig
from mimo_agent.engine.errors import ConfigError
from mimo_agent.engine.export import hub_config
from mimo_agent.evals.bench_engine import MIMO_V2_FLASH_CONFIG
from tests.engine.tiny_models import save_tiny, tiny_model


@pytest.fixture(scope="module")
def transformers_dict(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("tiny")
    save_tiny(path)
    return json.loads((path / "config.json").read_text())


def test_both_spellings_give_the_same_config(transformers_dict: dict) -> None:
    from_transformers = ModelConfig.from_dict(transformers_dict, source="a")
    from_hub = ModelConfig.from_dict(hub_config(transformers_dict), source="a")
    assert from_hub == from_transformers
    assert from_hub.sliding.window == 16 and from_hub.sliding.num_kv_heads == 2 and from_hub.sliding.sink
    assert from_hub.full.window is None and from_hub.full.num_kv_heads == 1 and not from_hub.full.sink
    assert from_hub.layer_types == (GLOBAL, SLIDING, SLIDING, SLIDING, SLIDING, GLOBAL)


def test_transformers_window_counts_the_current_token(transformers_dict: dict) -> None:
    """transformers stores sliding_window = window + 1; without sliding_window_size that must be undone."""
    raw = {k: v for k, v in transformers_dict.items() if k != "sliding_window_size"}
    assert raw["sliding_window"] == 17
    assert ModelConfig.from_dict(raw).sliding.window == 16


def test_published_config_matches_the_reference_numbers() -> None:
    config = ModelConfig.from_dict(MIMO_V2_FLASH_CONFIG)
    total, active = config.parameter_counts()
    assert round(total / 1e9, 1) == 308.8 and round(active / 1e9, 1) == 15.4
    assert [i for i, t in enumerate(config.layer_types) if t == GLOBAL] == [0, 5, 11, 17, 23, 29, 35, 41, 47]
    assert config.full.rotary_dim == config.sliding.rotary_dim == 64
    assert (config.full.num_kv_heads, config.sliding.num_kv_heads) == (4, 8)
    assert config.kv_bytes_per_token(2) == 9 * 2560
    assert config.routed_scaling_factor == 1.0


def test_parameter_count_equals_the_reference_state_dict(transformers_dict: dict) -> None:
    reference = tiny_model()
    config = ModelConfig.from_dict(transformers_dict)
    assert config.parameter_counts()[0] == sum(t.numel() for t in reference.state_dict().values())


def test_kv_bytes_grow_only_with_global_layers(transformers_dict: dict) -> None:
    config = ModelConfig.from_dict(transformers_dict)
    per_global = config.full.kv_bytes_per_position(4)
    per_ring = config.sliding.kv_bytes_per_position(4)
    assert config.kv_bytes(1000, 4) - config.kv_bytes(900, 4) == 100 * 2 * per_global
    assert config.kv_bytes(1000, 4) == 2 * 1000 * per_global + 4 * 17 * per_ring


BAD_FIELDS = [
    ("num_hidden_layers", None),
    ("hidden_size", -4),
    ("hidden_size", "64"),
    ("hybrid_layer_pattern", [0, 1, 1]),
    ("hybrid_layer_pattern", [0, 1, 2, 1, 1, 0]),
    ("moe_layer_freq", [0, 1, 1, 1, 1, True]),
    ("swa_num_key_value_heads", 3),
    ("rope_theta", None),
    ("swa_rope_theta", -1.0),
    ("layernorm_epsilon", 0),
    ("scoring_func", "softmax"),
    ("num_experts_per_tok", 9),
    ("partial_rotary_factor", 0.05),
    ("eos_token_id", "<|im_end|>"),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_bad_hub_field_is_named_with_its_file(
    transformers_dict: dict, tmp_path: Path, field: str, value: object
) -> None:
    raw = hub_config(transformers_dict)
    if value is None:
        raw.pop(field, None)
    else:
        raw[field] = value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_file(tmp_path)
    assert field in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("layer_types", ["full_attention"] * 5),
        ("mlp_layer_types", ["dense"] * 5 + ["moe"]),
        ("rope_parameters", {"full_attention": {"rope_theta": 1.0}}),
        ("rms_norm_eps", None),
    ],
)
def test_bad_transformers_field_is_named(transformers_dict: dict, field: str, value: object) -> None:
    raw = dict(transformers_dict)
    if value is None:
        raw.pop(field)
    else:
        raw[field] = value
    with pytest.raises(ConfigError, match=f"x/config.json: field '{field}'"):
        ModelConfig.from_dict(raw, source="x/config.json")


def test_unreadable_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        ModelConfig.from_file(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not readable JSON"):
        ModelConfig.from_file(tmp_path)


def test_config_is_immutable(transformers_dict: dict) -> None:
    config = ModelConfig.from_dict(transformers_dict)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.hidden_size = 1  # type: ignore[misc]
