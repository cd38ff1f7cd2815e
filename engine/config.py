"""The model's shape, read once from a checkpoint's config.json in either spelling and checked when built.

Two spellings exist: the hub's remote-code config (`hybrid_layer_pattern`, `swa_*`, `moe_layer_freq`,
`sliding_window_size`, `layernorm_epsilon`) and transformers' (`layer_types`, `mlp_layer_types`,
`rope_parameters`, `rms_norm_eps`, `sliding_window` = window + 1). Both become one `ModelConfig`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimo_agent.engine.errors import ConfigError

GLOBAL = "full_attention"
SLIDING = "sliding_attention"
_MISSING = object()


@dataclass(slots=True, frozen=True)
class AttentionSpec:
    """Everything one attention layer type needs; `window` = previous tokens a query sees (None: all)."""

    num_heads: int
    num_kv_heads: int
    head_dim: int
    v_head_dim: int
    rope_theta: float
    rotary_dim: int
    window: int | None
    sink: bool

    def kv_bytes_per_position(self, dtype_bytes: int) -> int:
        return self.num_kv_heads * (self.head_dim + self.v_head_dim) * dtype_bytes


@dataclass(slots=True, frozen=True)
class ModelConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    intermediate_size: int
    moe_intermediate_size: int
    n_routed_experts: int
    num_experts_per_tok: int
    norm_topk_prob: bool
    routed_scaling_factor: float
    layer_types: tuple[str, ...]
    mlp_types: tuple[str, ...]
    full: AttentionSpec
    sliding: AttentionSpec
    attention_value_scale: float
    rms_norm_eps: float
    max_position_embeddings: int
    tie_word_embeddings: bool
    eos_token_ids: tuple[int, ...]
    quantization_config: dict[str, Any] | None
    source: str

    @classmethod
    def from_file(cls, path: Path) -> ModelConfig:
        path = Path(path)
        if path.is_dir():
            path = path / "config.json"
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: no such file (expected a checkpoint's config.json)") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: not readable JSON ({exc})") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a JSON object at the top level")
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config.json") -> ModelConfig:
        return _Reader(raw, source).build()

    def attention(self, layer: int) -> AttentionSpec:
        return self.sliding if self.layer_types[layer] == SLIDING else self.full

    def is_moe(self, layer: int) -> bool:
        return self.mlp_types[layer] == "sparse"

    def parameter_counts(self) -> tuple[int, int]:
        """(total, active per token): every weight vs. the ones a token touches (top-k experts only)."""
        h = self.hidden_size
        embed = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
        total = active = embed + h  # + final norm
        for layer in range(self.num_hidden_layers):
            spec = self.attention(layer)
            attn = h * spec.num_heads * spec.head_dim + h * spec.num_kv_heads * (
                spec.head_dim + spec.v_head_dim
            )
            attn += spec.num_heads * spec.v_head_dim * h + (spec.num_heads if spec.sink else 0) + 2 * h
            total += attn
            active += attn
            if self.is_moe(layer):
                expert = 3 * h * self.moe_intermediate_size
                router = self.n_routed_experts * (h + 1)
                total += router + self.n_routed_experts * expert
                active += router + self.num_experts_per_tok * expert
            else:
                total += 3 * h * self.intermediate_size
                active += 3 * h * self.intermediate_size
        return total, active

    def kv_bytes_per_token(self, dtype_bytes: int) -> int:
        """Cache growth per context token: only global layers grow; sliding layers are a fixed ring."""
        return sum(self.full.kv_bytes_per_position(dtype_bytes) for t in self.layer_types if t == GLOBAL)

    def ring_bytes(self, dtype_bytes: int, ring_extra: int = 0) -> int:
        """The fixed cost of the sliding layers: window + 1 (+ `ring_extra`) positions each."""
        spec = self.sliding
        held = 0 if spec.window is None else spec.window + 1 + ring_extra
        layers = sum(1 for t in self.layer_types if t == SLIDING)
        return layers * held * spec.kv_bytes_per_position(dtype_bytes)

    def kv_bytes(self, context: int, dtype_bytes: int, ring_extra: int = 0) -> int:
        """Bytes of KV cache for `context` tokens; sliding layers hold window + 1 (+ `ring_extra`) positions."""
        total = 0
        for kind in self.layer_types:
            spec = self.sliding if kind == SLIDING else self.full
            held = context if spec.window is None else min(context, spec.window + 1 + ring_extra)
            total += held * spec.kv_bytes_per_position(dtype_bytes)
        return total


class _Reader:
    """Reads fields with errors that name the field and the file."""

    def __init__(self, raw: dict[str, Any], source: str) -> None:
        self.raw = raw
        self.source = source

    def fail(self, field: str, expected: str) -> ConfigError:
        value = self.raw.get(field, "<missing>")
        return ConfigError(f"{self.source}: field '{field}' = {value!r}: expected {expected}")

    def get(self, field: str, kind: type, default: Any = _MISSING) -> Any:
        if field not in self.raw or self.raw[field] is None:
            if default is _MISSING:
                raise self.fail(field, f"a {_kind_name(kind)}")
            return default
        value = self.raw[field]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(field, f"a {_kind_name(kind)}")
        return value

    def positive(self, field: str, default: Any = _MISSING, kind: type = int) -> Any:
        value = self.get(field, kind, default)
        if value <= 0:
            raise self.fail(field, f"a positive {_kind_name(kind)}")
        return value

    def layer_table(self, field: str, allowed: dict[Any, str], layers: int) -> tuple[str, ...]:
        table = self.get(field, list)
        if len(table) != layers:
            raise self.fail(field, f"{layers} entries (num_hidden_layers), got {len(table)}")
        for value in table:
            if isinstance(value, bool) or value not in allowed:
                raise self.fail(field, f"entries from {sorted(allowed, key=str)}, got {value!r}")
        return tuple(allowed[value] for value in table)

    def require(self, field: str, allowed: tuple[Any, ...]) -> None:
        """Fields whose other values would change the maths this engine implements."""
        if self.raw.get(field) not in allowed:
            raise self.fail(field, f"one of {list(allowed)} (the only values this engine implements)")

    def build(self) -> ModelConfig:
        hub = "hybrid_layer_pattern" in self.raw
        if not hub and "layer_types" not in self.raw:
            raise self.fail("layer_types", "a per-layer list (or the hub's 'hybrid_layer_pattern')")
        layers = self.positive("num_hidden_layers")
        if hub:
            layer_types = self.layer_table("hybrid_layer_pattern", {0: GLOBAL, 1: SLIDING}, layers)
            mlp_types = self.layer_table("moe_layer_freq", {0: "dense", 1: "sparse"}, layers)
        else:
            layer_types = self.layer_table("layer_types", {GLOBAL: GLOBAL, SLIDING: SLIDING}, layers)
            mlp_types = self.layer_table("mlp_layer_types", {"dense": "dense", "sparse": "sparse"}, layers)
        full, sliding = self.hub_attention() if hub else self.transformers_attention()
        eps_field = "layernorm_epsilon" if hub and "layernorm_epsilon" in self.raw else "rms_norm_eps"
        eps = self.positive(eps_field, kind=float)
        self.require("hidden_act", (None, "silu"))
        self.require("attention_bias", (None, False))
        self.require("n_shared_experts", (None, 0))
        self.require("scoring_func", (None, "sigmoid"))
        self.require("n_group", (None, 1))
        self.require("topk_group", (None, 1))
        experts = self.positive("n_routed_experts", 0) if "sparse" in mlp_types else 0
        top_k = self.positive("num_experts_per_tok", 0) if experts else 0
        if top_k > experts:
            raise self.fail("num_experts_per_tok", f"at most n_routed_experts = {experts}")
        return ModelConfig(
            vocab_size=self.positive("vocab_size"),
            hidden_size=self.positive("hidden_size"),
            num_hidden_layers=layers,
            intermediate_size=self.positive("intermediate_size"),
            moe_intermediate_size=self.positive("moe_intermediate_size") if experts else 0,
            n_routed_experts=experts,
            num_experts_per_tok=top_k,
            norm_topk_prob=self.get("norm_topk_prob", bool, True),
            routed_scaling_factor=self.get("routed_scaling_factor", float, 1.0),
            layer_types=layer_types,
            mlp_types=mlp_types,
            full=full,
            sliding=sliding,
            attention_value_scale=self.get("attention_value_scale", float, 1.0),
            rms_norm_eps=eps,
            max_position_embeddings=self.positive("max_position_embeddings"),
            tie_word_embeddings=self.get("tie_word_embeddings", bool, False),
            eos_token_ids=self.eos_ids(),
            quantization_config=self.get("quantization_config", dict, None),
            source=self.source,
        )

    def hub_attention(self) -> tuple[AttentionSpec, AttentionSpec]:
        heads = self.positive("num_attention_heads")
        head_dim = self.positive("head_dim")
        v_head_dim = self.positive("v_head_dim", head_dim)
        window_field = "sliding_window_size" if "sliding_window_size" in self.raw else "sliding_window"
        factor = self.get("partial_rotary_factor", float, 1.0)
        full = self.spec(
            heads,
            self.positive("num_key_value_heads"),
            head_dim,
            v_head_dim,
            self.positive("rope_theta", kind=float),
            factor,
            None,
            self.get("add_full_attention_sink_bias", bool, False),
            "num_key_value_heads",
        )
        swa_head_dim = self.positive("swa_head_dim", head_dim)
        sliding = self.spec(
            self.positive("swa_num_attention_heads", heads),
            self.positive("swa_num_key_value_heads"),
            swa_head_dim,
            self.positive("swa_v_head_dim", v_head_dim),
            self.positive("swa_rope_theta", kind=float),
            factor,
            self.positive(window_field),
            self.get("add_swa_attention_sink_bias", bool, False),
            "swa_num_key_value_heads",
        )
        return full, sliding

    def transformers_attention(self) -> tuple[AttentionSpec, AttentionSpec]:
        heads = self.positive("num_attention_heads")
        head_dim = self.positive("head_dim")
        v_head_dim = self.positive("v_head_dim", head_dim)
        kv = self.positive("num_key_value_heads")
        if "sliding_window_size" in self.raw:
            window = self.positive("sliding_window_size")
        elif self.positive("sliding_window") < 2:
            raise self.fail(
                "sliding_window", "at least 2 (transformers counts the current token: window + 1)"
            )
        else:
            window = self.raw["sliding_window"] - 1
        rope = self.get("rope_parameters", dict)
        thetas: dict[str, tuple[float, float]] = {}
        for kind in (GLOBAL, SLIDING):
            params = rope.get(kind)
            theta = params.get("rope_theta") if isinstance(params, dict) else None
            if not isinstance(theta, (int, float)) or isinstance(theta, bool) or theta <= 0:
                raise self.fail("rope_parameters", f"an entry '{kind}' with a positive 'rope_theta'")
            if params.get("rope_type", "default") != "default":
                raise self.fail("rope_parameters", f"rope_type 'default' for '{kind}' (no RoPE scaling)")
            thetas[kind] = float(theta), float(params.get("partial_rotary_factor", 0.334))
        full = self.spec(heads, kv, head_dim, v_head_dim, *thetas[GLOBAL], None, False, "num_key_value_heads")
        sliding = self.spec(
            heads, 2 * kv, head_dim, v_head_dim, *thetas[SLIDING], window, True, "num_key_value_heads"
        )
        return full, sliding

    def spec(
        self,
        heads: int,
        kv: int,
        head_dim: int,
        v_head_dim: int,
        theta: float,
        factor: float,
        window: int | None,
        sink: bool,
        kv_field: str,
    ) -> AttentionSpec:
        if heads % kv:
            raise self.fail(kv_field, f"a divisor of the {heads} attention heads")
        rotary_dim = int(head_dim * factor)
        if rotary_dim % 2 or not 0 < rotary_dim <= head_dim:
            raise self.fail("partial_rotary_factor", f"a factor giving an even rotary dim in 2..{head_dim}")
        return AttentionSpec(heads, kv, head_dim, v_head_dim, theta, rotary_dim, window, sink)

    def eos_ids(self) -> tuple[int, ...]:
        value = self.raw.get("eos_token_id")
        if value is None:
            return ()
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise self.fail("eos_token_id", "a token id or a list of token ids")
        return tuple(values)


def _kind_name(kind: type) -> str:
    names = {int: "integer", float: "number", bool: "boolean", list: "list", dict: "object", str: "string"}
    return names.get(kind, kind.__name__)
