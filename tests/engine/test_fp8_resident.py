"""keep_fp8: an FP8 checkpoint's weights stay FP8 in memory and give the same logits as dequantising at load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from mimo_agent.engine.engine import Engine
from mimo_agent.engine.fp8_linear import Fp8Linear
from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.sampling import SamplingParams
from tests.engine import checkpoint_writers as cw
from tests.engine.tiny_models import save_tiny

PROMPT = [3, 141, 59, 26, 53, 58, 97, 93, 23, 84]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fp8_resident")
    save_tiny(root / "src", seed=0)
    hub = cw.to_hub_layout(root / "src", root / "hub", mtp_layers=3, seed=7)
    return {"hub": hub, "fp8": cw.quantize_fp8(hub, root / "fp8", block=(16, 20))}


@pytest.fixture(scope="module")
def engines(dirs: dict[str, Path]) -> tuple[Engine, Engine]:
    """(dequantised at load, kept FP8) over the same FP8 checkpoint."""
    eager = Engine.from_pretrained(dirs["fp8"], max_seq_len=128)
    kept = Engine.from_pretrained(dirs["fp8"], max_seq_len=128, keep_fp8=True)
    return eager, kept


def resident_bytes(*modules: nn.Module | None) -> int:
    """Bytes of every distinct parameter and buffer storage (a tied lm_head counts once)."""
    seen: dict[int, int] = {}
    for module in modules:
        if module is not None:
            for t in [*module.parameters(), *module.buffers()]:
                seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(seen.values())


def fp8_holders(module: nn.Module) -> dict[str, Fp8Linear]:
    return {name: m for name, m in module.named_modules() if isinstance(m, Fp8Linear)}


def test_quantised_weights_stay_fp8_and_the_rest_as_loaded(engines: tuple[Engine, Engine]) -> None:
    _, kept = engines
    holders = fp8_holders(kept.model)
    layer = "model.layers.2"
    for name in ("self_attn.q_proj", "self_attn.k_proj", "mlp.experts.gate_up_proj", "mlp.experts.down_proj"):
        assert holders[f"{layer}.{name}"].weight.dtype == torch.float8_e4m3fn, name
    assert holders["model.layers.0.mlp.down_proj"].weight.dtype == torch.float8_e4m3fn  # dense MLP
    assert f"{layer}.self_attn.o_proj" not in holders  # not quantised in the published checkpoint
    assert kept.model.lm_head.weight.dtype == torch.float32
    assert isinstance(kept.mtp.layers[1].mlp.up_proj, Fp8Linear)
    names = set(kept.model.state_dict())
    assert {f"{layer}.self_attn.q_proj.weight", f"{layer}.self_attn.q_proj.weight_scale_inv"} <= names
    assert f"{layer}.mlp.experts.gate_up_proj.weight_scale_inv" in names


def test_resident_weights_are_about_a_quarter_of_float32(engines: tuple[Engine, Engine]) -> None:
    """Each FP8 weight takes 1 byte a value instead of 4, plus its float32 scale grid; nothing else changes."""
    eager, kept = engines
    holders = [*fp8_holders(kept.model).values(), *fp8_holders(kept.mtp).values()]
    saved = sum(3 * h.weight.numel() - h.weight_scale_inv.nbytes for h in holders)
    before, after = resident_bytes(eager.model, eager.mtp), resident_bytes(kept.model, kept.mtp)
    assert after == before - saved
    assert after / before < 0.45, after / before  # measured 0.397: embeddings and o_proj stay float32


def prefill_then_decode(model: MiMoForCausalLM) -> list[torch.Tensor]:
    """Logits over three windows of prefill, then over six greedy decode steps."""
    ids = torch.randint(0, 256, (50,), generator=torch.Generator().manual_seed(3))
    cache = KVCache(model.config, 64, torch.float32)
    out = model(ids, cache, all_logits=True)
    logits = [out.logits]
    token = out.logits[-1].argmax()
    for _ in range(6):
        logits.append(model(token[None], cache).logits)
        token = logits[-1][-1].argmax()
    return logits


def assert_same_logits(eager: MiMoForCausalLM, kept: MiMoForCausalLM) -> None:
    for want, got in zip(prefill_then_decode(eager), prefill_then_decode(kept), strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def test_prefill_and_decode_logits_equal_dequantising_at_load(engines: tuple[Engine, Engine]) -> None:
    assert_same_logits(engines[0].model, engines[1].model)


def test_expert_stacks_with_two_row_segments(dirs: dict[str, Path], tmp_path: Path) -> None:
    """Block rows 12 do not divide the expert size 32: each expert's gate|up is two quantised segments."""
    path = cw.quantize_fp8(dirs["hub"], tmp_path / "fp8_12", block=(12, 20))
    kept = Engine.from_pretrained(path, max_seq_len=64, keep_fp8=True)
    assert kept.model.model.layers[2].mlp.experts.gate_up_proj.segment_rows == 32
    assert_same_logits(Engine.from_pretrained(path, max_seq_len=64).model, kept.model)


def test_a_decoded_token_dequantises_only_its_chosen_experts(
    engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kept = engines
    holder = kept.model.model.layers[2].mlp.experts.gate_up_proj
    asked: list[int] = []
    dequantise = holder.expert_for

    def recording(expert: int, dtype: torch.dtype) -> torch.Tensor:
        asked.append(expert)
        return dequantise(expert, dtype)

    monkeypatch.setattr(holder, "expert_for", recording)
    kept.model(torch.tensor([5]), KVCache(kept.config, 8, torch.float32))
    assert len(set(asked)) == len(asked) == kept.config.num_experts_per_tok


@pytest.mark.parametrize("mtp_steps", [0, 3])
def test_greedy_generation_is_identical(engines: tuple[Engine, Engine], mtp_steps: int) -> None:
    """With mtp_steps=3 the FP8-resident MTP heads draft too: same tokens and the same acceptance."""
    eager, kept = engines
    params = SamplingParams(max_new_tokens=24)
    want = Engine(eager.model, max_seq_len=128, mtp=eager.mtp).complete(
        PROMPT, params=params, mtp_steps=mtp_steps
    )
    got = Engine(kept.model, max_seq_len=128, mtp=kept.mtp).complete(
        PROMPT, params=params, mtp_steps=mtp_steps
    )
    assert got.token_ids == want.token_ids and len(got.token_ids) == 24
    if mtp_steps:
        assert got.stats.speculation.histogram == want.stats.speculation.histogram


def test_mtp_head_output_equals_the_dequantised_head(engines: tuple[Engine, Engine]) -> None:
    eager, kept = engines
    hidden = torch.randn(5, 64, generator=torch.Generator().manual_seed(4))
    tokens = torch.tensor([7, 8, 9, 10, 11])

    def run(engine: Engine) -> torch.Tensor:
        cache = KVCache(engine.config, 8, torch.float32).layers[1]  # a sliding-window ring
        return engine.mtp.run(2, hidden, tokens, 0, cache, engine.model.model.embed_tokens)

    torch.testing.assert_close(run(kept), run(eager), rtol=0, atol=1e-6)


def test_checkpoints_without_fp8_load_exactly_as_before(dirs: dict[str, Path]) -> None:
    plain = Engine.from_pretrained(dirs["hub"], max_seq_len=64)
    kept = Engine.from_pretrained(dirs["hub"], max_seq_len=64, keep_fp8=True)
    assert not fp8_holders(kept.model) and not fp8_holders(kept.mtp)
    assert list(kept.model.state_dict()) == list(plain.model.state_dict())
    assert all(torch.equal(t, plain.model.state_dict()[n]) for n, t in kept.model.state_dict().items())


def test_keep_fp8_off_dequantises_at_load(engines: tuple[Engine, Engine]) -> None:
    eager, _ = engines
    assert not fp8_holders(eager.model) and not fp8_holders(eager.mtp)
    assert eager.model.model.layers[2].mlp.experts.gate_up_proj.dtype == torch.float32
