"""Checkpoint loading: every accepted layout gives the reference model's exact tensors, FP8 within its
tolerance, and every broken checkpoint a named error that says which tensor and which file."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from mimo_agent.engine.errors import CheckpointError, ConfigError, EngineError
from mimo_agent.engine.fp8 import Fp8Weight, resolve_segment_rows
from mimo_agent.engine.loader import LoadedWeights, fp8_block_size, load_weights, read_config_dict
from tests.engine import checkpoint_writers as cw
from tests.engine.tiny_models import save_tiny, tiny_model

BLOCK = (16, 20)  # small and non-square: the tiny shapes (24, 32, 48, 64, 96 …) get partial edge blocks
FP8_REL = 2.0**-4  # e4m3 keeps 3 mantissa bits: half an ulp is 1/16 of the value


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpt")
    save_tiny(root / "transformers", seed=0)
    paths = {"transformers": root / "transformers"}
    paths["hub"] = cw.to_hub_layout(paths["transformers"], root / "hub")
    paths["fused"] = cw.to_fused_layout(paths["hub"], root / "fused")
    paths["hub_sharded"] = cw.shard(paths["hub"], root / "hub_sharded", n_shards=3)
    paths["fused_sharded"] = cw.shard(paths["fused"], root / "fused_sharded", n_shards=2)
    paths["fp8"] = cw.quantize_fp8(paths["hub"], root / "fp8", block=BLOCK)
    return paths


@pytest.fixture(scope="module")
def reference_state() -> dict[str, torch.Tensor]:
    return tiny_model(seed=0).state_dict()


def expected_of(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {name: tuple(t.shape) for name, t in state.items()}


def load(path: Path, expected: dict[str, tuple[int, ...]], **kwargs) -> LoadedWeights:
    kwargs.setdefault("dtype", torch.float32)
    config = read_config_dict(path)
    return load_weights(path, expected, quantization_config=config.get("quantization_config"), **kwargs)


def logits_with(weights: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits of the transformers reference model with these weights, over 3× the sliding window."""
    model = tiny_model(seed=1)
    model.load_state_dict(weights, strict=True)
    ids = torch.arange(3, 3 + 51).remainder(256)[None]  # (1, 51)
    with torch.no_grad():
        return model(ids).logits[0]


# ---------------------------------------------------------------- layouts


def test_transformers_save_loads_to_its_state_dict(ckpt, reference_state):
    loaded = load(ckpt["transformers"], expected_of(reference_state))
    assert list(loaded.tensors) == list(reference_state)
    for name, tensor in reference_state.items():
        assert torch.equal(loaded.tensors[name], tensor), name
    assert loaded.mtp == {}


@pytest.mark.parametrize("layout", ["hub", "fused", "hub_sharded", "fused_sharded"])
def test_every_layout_loads_identical_tensors_and_logits(ckpt, reference_state, layout):
    loaded = load(ckpt[layout], expected_of(reference_state))
    assert set(loaded.tensors) == set(reference_state)
    for name, tensor in reference_state.items():
        assert torch.equal(loaded.tensors[name], tensor), name
    assert torch.equal(logits_with(loaded.tensors), logits_with(reference_state))


@pytest.mark.parametrize("layout", ["hub", "fused", "hub_sharded"])
def test_mtp_tensors_are_kept_under_their_published_names(ckpt, reference_state, layout):
    _, on_disk = cw.read_checkpoint(ckpt["hub"])
    mtp = {name: t for name, t in on_disk.items() if name.startswith("model.mtp.")}
    assert len(mtp) == 3 * 14 and "model.mtp.layers.2.self_attn.attention_sink_bias" in mtp
    loaded = load(ckpt[layout], expected_of(reference_state))
    assert set(loaded.mtp) == set(mtp)
    for name, tensor in mtp.items():
        assert torch.equal(loaded.mtp[name], tensor), name


def test_mtp_sidecar_outside_the_index_is_read_and_other_stray_files_ignored(tmp_path, ckpt, reference_state):
    config, tensors = cw.read_checkpoint(ckpt["hub"])
    mtp = {name: tensors.pop(name) for name in list(tensors) if name.startswith("model.mtp.")}
    path = cw.write_checkpoint(tmp_path / "c", config, tensors, n_shards=2)
    save_file(mtp, str(path / "model_mtp.safetensors"))
    save_file({"model.norm.weight": torch.zeros(64)}, str(path / "stale.safetensors"))  # not in the index
    loaded = load(path, expected_of(reference_state))
    assert set(loaded.mtp) == set(mtp)
    assert torch.equal(loaded.tensors["model.norm.weight"], reference_state["model.norm.weight"])


def test_hub_layout_really_is_the_published_spelling(ckpt):
    config, tensors = cw.read_checkpoint(ckpt["hub"])
    assert config["hybrid_layer_pattern"] == [0, 1, 1, 1, 1, 0]
    assert config["moe_layer_freq"] == [0, 1, 1, 1, 1, 1]
    assert "layer_types" not in config and "rms_norm_eps" not in config
    assert config["swa_num_key_value_heads"] == 2 and config["layernorm_epsilon"] == 1e-5
    assert "model.layers.1.mlp.experts.7.up_proj.weight" in tensors
    assert "model.layers.1.self_attn.attention_sink_bias" in tensors
    _, fused = cw.read_checkpoint(ckpt["fused"])
    assert "model.layers.1.mlp.experts.gate_up_proj" in fused and "model.layers.1.self_attn.sinks" in fused
    assert json.loads((ckpt["hub_sharded"] / "model.safetensors.index.json").read_text())["weight_map"]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_dtypes_cast_everything_but_the_router_bias(ckpt, reference_state, dtype):
    loaded = load(ckpt["hub"], expected_of(reference_state), dtype=dtype)
    for name, tensor in reference_state.items():
        want = torch.float32 if name.endswith("e_score_correction_bias") else dtype
        assert loaded.tensors[name].dtype == want, name
        assert torch.equal(loaded.tensors[name], tensor.to(want)), name
    assert all(t.dtype == dtype for t in loaded.mtp.values())


def test_published_storage_dtypes_bf16_with_fp32_router(tmp_path, ckpt, reference_state):
    path = cw.to_hub_layout(ckpt["transformers"], tmp_path / "bf16", dtype=torch.bfloat16)
    with safe_open(str(path / "model.safetensors"), framework="pt") as f:
        assert f.get_slice("model.layers.1.mlp.gate.weight").get_dtype() == "F32"
        assert f.get_slice("model.layers.1.self_attn.o_proj.weight").get_dtype() == "BF16"
    loaded = load(path, expected_of(reference_state))
    for name, tensor in reference_state.items():
        router = name.endswith(("mlp.gate.weight", "e_score_correction_bias"))
        want = tensor if router else tensor.to(torch.bfloat16).float()
        assert loaded.tensors[name].dtype == torch.float32 and torch.equal(loaded.tensors[name], want), name


def test_unsupported_load_dtype_is_refused(ckpt, reference_state):
    with pytest.raises(EngineError, match="float64"):
        load(ckpt["hub"], expected_of(reference_state), dtype=torch.float64)


# ---------------------------------------------------------------- FP8


def quantised_pairs(path: Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    _, tensors = cw.read_checkpoint(path)
    return {
        name[: -len("_scale_inv")]: (tensors[name[: -len("_scale_inv")]], t)
        for name, t in tensors.items()
        if name.endswith("_scale_inv")
    }


def test_fp8_writer_quantises_exactly_what_the_published_checkpoint_does(ckpt):
    config, tensors = cw.read_checkpoint(ckpt["fp8"])
    fp8 = {name for name, t in tensors.items() if t.dtype == torch.float8_e4m3fn}
    assert "model.layers.0.self_attn.q_proj.weight" in fp8 and "model.layers.0.mlp.down_proj.weight" in fp8
    assert (
        "model.layers.3.mlp.experts.5.gate_proj.weight" in fp8
        and "model.mtp.layers.1.mlp.up_proj.weight" in fp8
    )
    for kept in (
        "self_attn.o_proj.weight",
        "mlp.gate.weight",
        "eh_proj.weight",
        "embed_tokens.weight",
        "sink_bias",
    ):
        assert not any(name.endswith(kept) for name in fp8), kept
    scale = tensors["model.layers.0.self_attn.k_proj.weight_scale_inv"]
    assert scale.dtype == torch.float32 and list(scale.shape) == [math.ceil(24 / 16), math.ceil(64 / 20)]
    assert config["quantization_config"]["weight_block_size"] == list(BLOCK)


def test_fp8_dequantises_exactly_like_the_reference_and_within_fp8_error(ckpt, reference_state):
    loaded = load(ckpt["fp8"], expected_of(reference_state))
    pairs = quantised_pairs(ckpt["fp8"])
    partial = [name for name, (q, _) in pairs.items() if q.shape[0] % BLOCK[0] and q.shape[1] % BLOCK[1]]
    assert partial, "the test must exercise partial edge blocks in both dimensions"
    unfused = cw.unfuse_experts(loaded.tensors)  # per-expert view of the fused tensors
    originals = cw.unfuse_experts(reference_state)
    for name, (q, scale) in pairs.items():
        want = cw.reference_dequantize(q, scale, BLOCK)
        if name.startswith("model.mtp."):
            assert torch.equal(loaded.mtp[name], want), name
            continue
        assert torch.equal(unfused[name], want), name
        original = originals[name]
        rows = torch.arange(q.shape[0]) // BLOCK[0]
        cols = torch.arange(q.shape[1]) // BLOCK[1]
        block_scale = scale[rows][:, cols]  # (rows, cols): each element's block scale = block absmax / 448
        bound = FP8_REL * original.abs() + block_scale * 2.0**-9 + 1e-12  # relative, or subnormal spacing
        assert ((want - original).abs() <= bound).all(), name
    for name, tensor in reference_state.items():
        if not cw.published_quantises(name):
            assert torch.equal(loaded.tensors[name], tensor), name


def test_fp8_logits_match_the_dequantised_reference(ckpt, reference_state):
    loaded = load(ckpt["fp8"], expected_of(reference_state))
    pairs = quantised_pairs(ckpt["fp8"])
    per_expert = cw.unfuse_experts(reference_state)
    for name, (q, scale) in pairs.items():
        if not name.startswith("model.mtp."):
            per_expert[name] = cw.reference_dequantize(q, scale, BLOCK)
    dequantised = cw.fuse_experts(per_expert)
    got = logits_with(loaded.tensors)
    assert torch.equal(got, logits_with(dequantised))
    exact = logits_with(reference_state)
    relative = (got - exact).norm() / exact.norm()
    assert 0 < relative < 0.1, relative.item()  # measured 0.036 (random tiny weights)


def test_keep_fp8_dequantises_per_layer_to_the_same_weights(tmp_path, ckpt, reference_state):
    """Block rows 12 do not divide the expert size 32, so stacked gate|up need two row segments."""
    path = cw.quantize_fp8(ckpt["hub"], tmp_path / "fp8_12", block=(12, 20))
    eager = load(path, expected_of(reference_state))
    lazy = load(path, expected_of(reference_state), keep_fp8=True)
    gate_up = lazy.tensors["model.layers.2.mlp.experts.gate_up_proj"]
    assert (
        isinstance(gate_up, Fp8Weight)
        and gate_up.segment_rows == 32
        and gate_up.weight.dtype == torch.float8_e4m3fn
    )
    assert list(gate_up.scale_inv.shape) == [8, 2 * 3, 4]
    chosen = torch.tensor([5, 1])
    assert torch.equal(
        gate_up.select(chosen).dequantize(), eager.tensors["model.layers.2.mlp.experts.gate_up_proj"][chosen]
    )
    kinds = {type(v) for v in lazy.tensors.values()}
    assert kinds == {Fp8Weight, torch.Tensor}
    for name, value in lazy.tensors.items():
        got = value.dequantize(torch.float32) if isinstance(value, Fp8Weight) else value
        assert torch.equal(got, eager.tensors[name]), name
    assert set(lazy.mtp) == set(eager.mtp)
    assert isinstance(lazy.mtp["model.mtp.layers.0.mlp.up_proj.weight"], Fp8Weight)
    for name, value in lazy.mtp.items():
        got = value.dequantize(torch.float32) if isinstance(value, Fp8Weight) else value
        assert torch.equal(got, eager.mtp[name]), name


def test_fused_fp8_on_disk_dequantises_each_expert_grid(tmp_path, ckpt, reference_state):
    path = cw.quantize_fp8(ckpt["fused"], tmp_path / "fused_fp8", block=BLOCK)
    loaded = load(path, expected_of(reference_state))
    _, tensors = cw.read_checkpoint(path)
    q, scale = (
        tensors["model.layers.4.mlp.experts.down_proj"],
        tensors["model.layers.4.mlp.experts.down_proj_scale_inv"],
    )
    want = torch.stack([cw.reference_dequantize(q[e], scale[e], BLOCK) for e in range(q.shape[0])])
    assert torch.equal(loaded.tensors["model.layers.4.mlp.experts.down_proj"], want)


@pytest.mark.parametrize(
    ("rows", "scale_shape", "block", "rule", "want"),
    [
        (768, (6, 32), (128, 128), "segmented", ((128, 128), None)),  # the plain grid
        (768, (8, 32), (128, 128), "segmented", ((128, 128), 192)),  # published GA k_proj: 4 heads of 192
        (768, (8, 32), (128, 128), "transformers", ((96, 128), None)),  # transformers: 768 / 8 rows a block
        (240, (24, 256), (16, 16), "segmented", ((16, 16), 20)),
        (240, (16, 256), (16, 16), "segmented", None),  # 30-, 60- and 120-row segments all fit: ambiguous
        (768, (7, 32), (128, 128), "transformers", None),  # 768 rows do not split into 7 blocks
        (768, (6, 31), (128, 128), "segmented", None),  # columns never vary
    ],
)
def test_scale_grid_rules(rows, scale_shape, block, rule, want):
    assert resolve_segment_rows(rows, 4096, scale_shape, block, rule) == want


@pytest.fixture(scope="module")
def per_head(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    """Two GA kv heads of 24 rows, each quantised on its own: 2·ceil(24/16) = 4 scale rows, not ceil(48/16) = 3."""
    root = tmp_path_factory.mktemp("per_head")
    model = save_tiny(root / "tf", seed=2, num_key_value_heads=2)
    path = cw.quantize_fp8(root / "tf", root / "fp8", block=(16, 16), per_head_ga_k=True)
    return path, model.state_dict()


def test_ga_k_proj_scale_grid_with_per_head_blocks_is_detected(per_head):
    path, state = per_head
    k_proj = "model.layers.5.self_attn.k_proj.weight"  # a global-attention layer
    q, scale = quantised_pairs(path)[k_proj]
    assert list(scale.shape) == [4, 4]
    segmented = load(path, expected_of(state)).tensors[k_proj]
    assert torch.equal(segmented, cw.reference_dequantize(q, scale, (16, 16), segment_rows=24))
    uniform = load(path, expected_of(state), scale_row_rule="transformers").tensors[k_proj]
    assert torch.equal(
        uniform, cw.reference_dequantize(q, scale, (12, 16))
    )  # transformers: 48 / 4 rows a block
    assert not torch.equal(segmented, uniform)
    kept = load(path, expected_of(state), keep_fp8=True).tensors[k_proj]
    assert isinstance(kept, Fp8Weight) and kept.segment_rows == 24
    assert torch.equal(kept.dequantize(), segmented)


def test_scale_grid_that_fits_no_rule_names_the_tensor(tmp_path, ckpt, reference_state):
    config, tensors = cw.read_checkpoint(ckpt["fp8"])
    tensors["model.layers.1.self_attn.q_proj.weight_scale_inv"] = torch.ones(5, 4)  # 96 rows: 6 blocks, not 5
    path = cw.write_checkpoint(tmp_path / "bad", config, tensors)
    with pytest.raises(
        CheckpointError, match=r"model\.layers\.1\.self_attn\.q_proj\.weight.*model\.safetensors"
    ):
        load(path, expected_of(reference_state))


def test_fp8_without_scale_or_block_size_is_an_error(tmp_path, ckpt, reference_state):
    config, tensors = cw.read_checkpoint(ckpt["fp8"])
    del tensors["model.layers.2.mlp.experts.3.down_proj.weight_scale_inv"]
    path = cw.write_checkpoint(tmp_path / "no_scale", config, tensors)
    with pytest.raises(CheckpointError, match=r"experts\.3\.down_proj\.weight.*no .*_scale_inv"):
        load(path, expected_of(reference_state))
    with pytest.raises(CheckpointError, match="weight_block_size"):
        load_weights(ckpt["fp8"], expected_of(reference_state), quantization_config=None, dtype=torch.float32)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"quant_method": "awq", "weight_block_size": [128, 128]}, "quant_method"),
        ({"quant_method": "fp8", "weight_block_size": [128]}, "weight_block_size"),
        ({"quant_method": "fp8"}, "weight_block_size"),
    ],
)
def test_bad_quantization_config_names_the_field(config, field):
    with pytest.raises(ConfigError, match=field):
        fp8_block_size(config)


def test_block_size_is_read_as_rows_then_columns():
    assert fp8_block_size({"quant_method": "fp8", "weight_block_size": [128, 64]}) == (128, 64)
    assert fp8_block_size(None) is None


# ---------------------------------------------------------------- broken checkpoints


def rewrite(src: Path, dst: Path, edit) -> Path:
    config, tensors = cw.read_checkpoint(src)
    edit(tensors)
    return cw.write_checkpoint(dst, config, tensors, src)


def test_missing_tensor(tmp_path, ckpt, reference_state):
    path = rewrite(ckpt["hub"], tmp_path / "c", lambda t: t.pop("model.norm.weight"))
    with pytest.raises(CheckpointError, match=r"'model\.norm\.weight'.*missing.*model\.safetensors"):
        load(path, expected_of(reference_state))


def test_missing_expert(tmp_path, ckpt, reference_state):
    path = rewrite(
        ckpt["hub"], tmp_path / "c", lambda t: t.pop("model.layers.3.mlp.experts.5.up_proj.weight")
    )
    with pytest.raises(CheckpointError, match=r"model\.layers\.3\.mlp\.experts\.5\.up_proj\.weight.*missing"):
        load(path, expected_of(reference_state))


def test_wrong_shape(tmp_path, ckpt, reference_state):
    def grow(t):
        t["model.layers.1.self_attn.q_proj.weight"] = torch.zeros(97, 64)

    path = rewrite(ckpt["hub"], tmp_path / "c", grow)
    with pytest.raises(CheckpointError, match=r"q_proj\.weight'.*model\.safetensors.*\[97, 64\].*\[96, 64\]"):
        load(path, expected_of(reference_state))


def test_wrong_expert_shape(tmp_path, ckpt, reference_state):
    def shrink(t):
        t["model.layers.4.mlp.experts.0.down_proj.weight"] = torch.zeros(64, 31)

    path = rewrite(ckpt["hub"], tmp_path / "c", shrink)
    with pytest.raises(CheckpointError, match=r"experts\.0\.down_proj\.weight'.*\[64, 31\].*\[64, 32\]"):
        load(path, expected_of(reference_state))


@pytest.mark.parametrize(
    "extra",
    [
        "model.layers.1.self_attn.extra.weight",
        "model.layers.1.mlp.experts.8.gate_proj.weight",  # one expert too many
        "model.layers.1.mlp.experts.0.gate_proj.weight.extra",  # an expert-like name, one segment longer
        "model.layers.1.self_attn.attention_sink_bias_v2",  # contains the sink name as a substring only
        "model.mtpx.layers.0.enorm.weight",  # starts like model.mtp but is another segment
        "model.layers.1.self_attn.o_proj.weight_scale_inv",  # scale for a tensor that is not FP8
    ],
)
def test_unexpected_tensor(tmp_path, ckpt, reference_state, extra):
    def add(t):
        t[extra] = torch.zeros(32, 64)

    path = rewrite(ckpt["hub"], tmp_path / "c", add)
    with pytest.raises(CheckpointError, match=rf"{extra.replace('.', '[.]')}.*model\.safetensors"):
        load(path, expected_of(reference_state))


def test_both_sink_spellings_at_once(tmp_path, ckpt, reference_state):
    def dup(t):
        t["model.layers.2.self_attn.sinks"] = t["model.layers.2.self_attn.attention_sink_bias"].clone()

    path = rewrite(ckpt["hub"], tmp_path / "c", dup)
    with pytest.raises(CheckpointError, match=r"model\.layers\.2\.self_attn\.sinks"):
        load(path, expected_of(reference_state))


def test_experts_both_fused_and_per_expert(tmp_path, ckpt, reference_state):
    def dup(t):
        t["model.layers.3.mlp.experts.down_proj"] = reference_state["model.layers.3.mlp.experts.down_proj"]

    path = rewrite(ckpt["hub"], tmp_path / "c", dup)
    with pytest.raises(CheckpointError, match=r"model\.layers\.3\.mlp\.experts\.down_proj.*both fused"):
        load(path, expected_of(reference_state))


def test_other_fp8_formats_are_refused(tmp_path, ckpt, reference_state):
    def e5m2(t):
        t["model.layers.1.self_attn.q_proj.weight"] = t["model.layers.1.self_attn.q_proj.weight"].to(
            torch.float8_e5m2
        )

    path = rewrite(ckpt["hub"], tmp_path / "c", e5m2)
    with pytest.raises(CheckpointError, match=r"model\.layers\.1\.self_attn\.q_proj\.weight.*F8_E5M2"):
        load(path, expected_of(reference_state))


def test_truncated_shard(tmp_path, ckpt, reference_state):
    path = tmp_path / "c"
    shutil.copytree(ckpt["hub_sharded"], path)
    shard = path / "model-00002-of-00003.safetensors"
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=r"model-00002-of-00003\.safetensors.*truncated"):
        load(path, expected_of(reference_state))


def test_missing_shard(tmp_path, ckpt, reference_state):
    path = tmp_path / "c"
    shutil.copytree(ckpt["hub_sharded"], path)
    (path / "model-00003-of-00003.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model-00003-of-00003\.safetensors.*tensor '.*'.*missing"):
        load(path, expected_of(reference_state))


def test_index_pointing_at_the_wrong_shard(tmp_path, ckpt, reference_state):
    path = tmp_path / "c"
    shutil.copytree(ckpt["hub_sharded"], path)
    index_path = path / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    index["weight_map"]["model.norm.weight"] = "model-00001-of-00003.safetensors"
    index_path.write_text(json.dumps(index))
    with safe_open(str(path / "model-00001-of-00003.safetensors"), framework="pt") as f:
        assert "model.norm.weight" not in f.keys()  # noqa: SIM118 (not a dict)
    with pytest.raises(CheckpointError, match=r"model\.norm\.weight.*model-00001-of-00003"):
        load(path, expected_of(reference_state))


def test_corrupt_index(tmp_path, ckpt, reference_state):
    path = tmp_path / "c"
    shutil.copytree(ckpt["hub_sharded"], path)
    (path / "model.safetensors.index.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"model\.safetensors\.index\.json"):
        load(path, expected_of(reference_state))


def test_same_tensor_in_two_files(tmp_path, ckpt, reference_state):
    path = tmp_path / "c"
    shutil.copytree(ckpt["hub"], path)
    shutil.copy(path / "model.safetensors", path / "model_copy.safetensors")
    with pytest.raises(CheckpointError, match=r"model_copy\.safetensors"):
        load(path, expected_of(reference_state))


def test_directory_without_weights(tmp_path, reference_state):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match=re.escape(str(tmp_path))):
        load_weights(tmp_path, expected_of(reference_state), quantization_config=None, dtype=torch.float32)


def test_non_existent_directory(tmp_path, reference_state):
    with pytest.raises(CheckpointError, match=r"nope does not exist"):
        load_weights(
            tmp_path / "nope", expected_of(reference_state), quantization_config=None, dtype=torch.float32
        )


# ---------------------------------------------------------------- config.json


def test_read_config_dict(ckpt):
    assert read_config_dict(ckpt["hub"])["hybrid_layer_pattern"][0] == 0


@pytest.mark.parametrize(
    ("content", "message"), [(None, "no config.json"), ("{oops", "unreadable"), ("[1]", "object")]
)
def test_read_config_dict_errors_name_the_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    with pytest.raises(ConfigError, match=rf"{re.escape(str(tmp_path / 'config.json'))}.*{message}"):
        read_config_dict(tmp_path)
