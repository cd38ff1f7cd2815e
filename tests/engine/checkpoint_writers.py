"""Rewrite a transformers `save_pretrained` checkpoint into the other layouts the loader must accept.

- `to_hub_layout`: the published spelling: hub config fields, per-expert tensors, `attention_sink_bias`,
  plus `model.mtp.layers.k.*` tensors with the published names and (scaled-down) shapes.
- `to_fused_layout`: transformers' in-memory layout on disk: fused experts, `sinks`.
- `quantize_fp8`: e4m3 weights + F32 `weight_scale_inv` block scales [ceil(out/b0), ceil(in/b1)], only
  for the tensors the published checkpoint quantises, plus the published `quantization_config`.
- `shard`: several files plus `model.safetensors.index.json`.

Every function takes a source directory in any of these layouts and writes a new directory.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from mimo_agent.engine.export import hub_config, hub_name, stays_float32, unfuse_experts

FP8_MAX = torch.finfo(torch.float8_e4m3fn).max  # 448
QUANTISED_MODULES = {"q_proj", "k_proj", "v_proj", "gate_proj", "up_proj", "down_proj"}
INDEX_FILE = "model.safetensors.index.json"


def read_checkpoint(src: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """config.json and every tensor of a single-file or sharded checkpoint."""
    config = json.loads((src / "config.json").read_text())
    tensors: dict[str, torch.Tensor] = {}
    for path in sorted(src.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            tensors.update({name: f.get_tensor(name) for name in f.keys()})  # noqa: SIM118 (not a dict)
    return config, tensors


def write_checkpoint(
    dst: Path,
    config: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    src: Path | None = None,
    n_shards: int = 1,
) -> Path:
    """Write config.json and the tensors (one file, or `n_shards` files + index); copy src's other files."""
    dst.mkdir(parents=True, exist_ok=True)
    if src is not None:
        for path in src.iterdir():
            if (
                path.is_file()
                and not path.name.endswith(".safetensors")
                and path.name not in {INDEX_FILE, "config.json"}
            ):
                shutil.copy(path, dst / path.name)
    (dst / "config.json").write_text(json.dumps(config, indent=2))
    tensors = {name: t.contiguous() for name, t in tensors.items()}
    if n_shards == 1:
        save_file(tensors, str(dst / "model.safetensors"), metadata={"format": "pt"})
        return dst
    names = list(tensors)
    per_shard = math.ceil(len(names) / n_shards)
    weight_map: dict[str, str] = {}
    for i in range(n_shards):
        file = f"model-{i + 1:05d}-of-{n_shards:05d}.safetensors"
        chunk = {name: tensors[name] for name in names[i * per_shard : (i + 1) * per_shard]}
        save_file(chunk, str(dst / file), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(chunk, file))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    (dst / INDEX_FILE).write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2)
    )
    return dst


def shard(src: Path, dst: Path, n_shards: int = 3) -> Path:
    config, tensors = read_checkpoint(src)
    return write_checkpoint(dst, config, tensors, src, n_shards)


def mtp_tensors(hub: dict[str, Any], n_layers: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random `model.mtp.layers.k.*` tensors with the published names, shapes scaled to the config."""
    g = torch.Generator().manual_seed(seed)
    h, heads, i = hub["hidden_size"], hub["swa_num_attention_heads"], hub["intermediate_size"]
    kv, d_qk, d_v = hub["swa_num_key_value_heads"], hub["swa_head_dim"], hub["swa_v_head_dim"]
    shapes = {
        "enorm.weight": [h],
        "hnorm.weight": [h],
        "eh_proj.weight": [h, 2 * h],
        "input_layernorm.weight": [h],
        "pre_mlp_layernorm.weight": [h],
        "final_layernorm.weight": [h],
        "self_attn.q_proj.weight": [heads * d_qk, h],
        "self_attn.k_proj.weight": [kv * d_qk, h],
        "self_attn.v_proj.weight": [kv * d_v, h],
        "self_attn.o_proj.weight": [h, heads * d_v],
        "self_attn.attention_sink_bias": [heads],
        "mlp.gate_proj.weight": [i, h],
        "mlp.up_proj.weight": [i, h],
        "mlp.down_proj.weight": [h, i],
    }
    return {
        f"model.mtp.layers.{k}.{name}": torch.randn(shape, generator=g) * 0.05
        for k in range(n_layers)
        for name, shape in shapes.items()
    }


def to_hub_layout(
    src: Path, dst: Path, mtp_layers: int = 3, seed: int = 0, dtype: torch.dtype = torch.float32
) -> Path:
    """`dtype=torch.bfloat16` stores like the published checkpoint: BF16, but the router and its bias F32."""
    config, tensors = read_checkpoint(src)
    hub = hub_config(config)
    out = {hub_name(name): t for name, t in unfuse_experts(tensors).items()}
    out.update(mtp_tensors(hub, mtp_layers, seed))
    if dtype != torch.float32:
        out = {name: t if stays_float32(name) else t.to(dtype) for name, t in out.items()}
        hub["torch_dtype"] = str(dtype).removeprefix("torch.")
    return write_checkpoint(dst, hub, out, src)


def to_fused_layout(src: Path, dst: Path) -> Path:
    config, tensors = read_checkpoint(src)
    out = {_memory_name(name): t for name, t in fuse_experts(tensors).items()}
    return write_checkpoint(dst, config, out, src)


def quantize_fp8(
    src: Path, dst: Path, block: tuple[int, int] = (16, 20), per_head_ga_k: bool = False
) -> Path:
    """Quantise what the published checkpoint quantises (q/k/v, dense and expert MLPs, the same in MTP).

    `per_head_ga_k` reproduces the reported quirk of the published GA k_proj: each head quantised on its
    own, so its scale grid has n_heads · ceil(head_dim / b0) rows instead of ceil(rows / b0).
    """
    config, tensors = read_checkpoint(src)
    ga_layers = _global_layers(config)
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if not published_quantises(name):
            out[name] = tensor
            continue
        parts = name.split(".")
        per_head = per_head_ga_k and parts[:2] == ["model", "layers"] and int(parts[2]) in ga_layers
        per_head = per_head and parts[3:5] == ["self_attn", "k_proj"]
        q, scale = quantize_blocks(tensor, block, config["head_dim"] if per_head else None)
        out[name], out[name + "_scale_inv"] = q, scale
    n_layers = config["num_hidden_layers"]
    config = dict(config)
    config["quantization_config"] = {
        "quant_method": "fp8",
        "fmt": "e4m3",
        "activation_scheme": "dynamic",
        "weight_block_size": list(block),
        "ignored_layers": [f"model.layers.{layer}.self_attn.o_proj" for layer in range(n_layers)],
    }
    return write_checkpoint(dst, config, out, src)


def quantize_blocks(
    w: torch.Tensor, block: tuple[int, int], segment_rows: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-block absmax e4m3 quantisation of the last two dims: returns (q, scale_inv) with W ≈ q · scale."""
    if w.dim() > 2:
        pairs = [quantize_blocks(m, block, segment_rows) for m in w]
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
    rows, cols = w.shape
    seg = segment_rows or rows
    blocks_per_seg, n_cols = math.ceil(seg / block[0]), math.ceil(cols / block[1])
    q = torch.empty(rows, cols, dtype=torch.float8_e4m3fn)
    scale = torch.empty(rows // seg * blocks_per_seg, n_cols, dtype=torch.float32)
    for s in range(rows // seg):
        for br in range(blocks_per_seg):
            r0 = s * seg + br * block[0]
            r1 = min(r0 + block[0], (s + 1) * seg)
            for bc in range(n_cols):
                c0, c1 = bc * block[1], min((bc + 1) * block[1], cols)
                tile = w[r0:r1, c0:c1].float()
                amax = tile.abs().max().item()
                sc = amax / FP8_MAX if amax > 0 else 1.0
                scale[s * blocks_per_seg + br, bc] = sc
                q[r0:r1, c0:c1] = (tile / sc).to(torch.float8_e4m3fn)
    return q, scale


def reference_dequantize(
    q: torch.Tensor, scale: torch.Tensor, block: tuple[int, int], segment_rows: int | None = None
) -> torch.Tensor:
    """Block-by-block W = q · S in float32, written independently of the engine's vectorised version."""
    rows, cols = q.shape
    seg = segment_rows or rows
    blocks_per_seg = math.ceil(seg / block[0])
    w = torch.empty(rows, cols, dtype=torch.float32)
    for r in range(rows):
        s, within = divmod(r, seg)
        srow = s * blocks_per_seg + within // block[0]
        for bc in range(math.ceil(cols / block[1])):
            c0, c1 = bc * block[1], min((bc + 1) * block[1], cols)
            w[r, c0:c1] = q[r, c0:c1].float() * scale[srow, bc]
    return w


def published_quantises(name: str) -> bool:
    parts = name.split(".")
    fused = parts[-3:-1] == ["mlp", "experts"] and parts[-1] in {"gate_up_proj", "down_proj"}
    return fused or (parts[-1] == "weight" and len(parts) >= 2 and parts[-2] in QUANTISED_MODULES)


def _global_layers(config: dict[str, Any]) -> set[int]:
    if "hybrid_layer_pattern" in config:
        return {i for i, kind in enumerate(config["hybrid_layer_pattern"]) if kind == 0}
    return {i for i, kind in enumerate(config["layer_types"]) if kind == "full_attention"}


def _memory_name(name: str) -> str:
    parts = name.split(".")
    if parts[:2] == ["model", "layers"] and parts[-2:] == ["self_attn", "attention_sink_bias"]:
        return ".".join([*parts[:-1], "sinks"])
    return name


def fuse_experts(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-expert tensors → fused gate_up_proj [E, 2I, H] (gate rows first) and down_proj [E, H, I]."""
    out: dict[str, torch.Tensor] = {}
    experts: dict[str, dict[int, dict[str, torch.Tensor]]] = {}
    for name, t in tensors.items():
        parts = name.split(".")
        if len(parts) == 8 and parts[3:5] == ["mlp", "experts"] and parts[5].isdigit():
            experts.setdefault(".".join(parts[:5]), {}).setdefault(int(parts[5]), {})[parts[6]] = t
        else:
            out[name] = t
    for prefix, by_expert in experts.items():
        order = sorted(by_expert)
        out[f"{prefix}.gate_up_proj"] = torch.stack(
            [torch.cat([by_expert[e]["gate_proj"], by_expert[e]["up_proj"]]) for e in order]
        )
        out[f"{prefix}.down_proj"] = torch.stack([by_expert[e]["down_proj"] for e in order])
    return out
