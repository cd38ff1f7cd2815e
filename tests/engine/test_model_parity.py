"""Logit parity with transformers' MiMoV2FlashForCausalLM (eager attention, eager experts), float32."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import MiMoV2FlashForCausalLM

from mimo_agent.engine.kv_cache import KVCache
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.moe import MoE
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import tiny_model

TOL = 1e-4


def fresh_cache(model: MiMoForCausalLM, max_seq: int = 128) -> KVCache:
    return KVCache(model.config, max_seq, torch.float32)


def test_state_dict_names_are_transformers_names(
    reference: MiMoV2FlashForCausalLM, twin: MiMoForCausalLM
) -> None:
    assert set(twin.state_dict()) == set(reference.state_dict())
    for name, tensor in reference.state_dict().items():
        assert twin.state_dict()[name].shape == tensor.shape, name


def test_prefill_logits_match(
    twin: MiMoForCausalLM, reference_logits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    ids, expected = reference_logits
    out = twin(ids, fresh_cache(twin), all_logits=True)
    assert (out.logits - expected).abs().max() <= TOL


def test_token_by_token_decode_matches_over_five_windows(
    twin: MiMoForCausalLM, reference_logits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    ids, expected = reference_logits
    cache = fresh_cache(twin)
    prompt = 5
    first = twin(ids[:prompt], cache, all_logits=True).logits
    steps = [twin(ids[i : i + 1], cache).logits[0] for i in range(prompt, len(ids))]
    got = torch.cat((first, torch.stack(steps)))
    assert len(ids) >= 3 * 17
    assert (got - expected).abs().max() <= TOL


@pytest.mark.parametrize("chunk", [1, 7, 16, 17, 40])
def test_chunked_forward_equals_one_shot(
    twin: MiMoForCausalLM, reference_logits: tuple[torch.Tensor, torch.Tensor], chunk: int
) -> None:
    """Chunks shorter and longer than the window (16 + current) must see exactly the same keys."""
    ids, expected = reference_logits
    cache = fresh_cache(twin)
    parts = [twin(ids[i : i + chunk], cache, all_logits=True).logits for i in range(0, len(ids), chunk)]
    assert (torch.cat(parts) - expected).abs().max() <= TOL


def test_hidden_state_is_taken_before_the_final_norm(
    reference: MiMoV2FlashForCausalLM,
    twin: MiMoForCausalLM,
    reference_logits: tuple[torch.Tensor, torch.Tensor],
) -> None:
    ids, _ = reference_logits
    captured: list[torch.Tensor] = []
    hook = reference.model.layers[-1].register_forward_hook(lambda _m, _i, out: captured.append(out))
    try:
        with torch.no_grad():
            reference(ids[None])
    finally:
        hook.remove()
    out = twin(ids, fresh_cache(twin), all_logits=True)
    assert (out.hidden - captured[0][0]).abs().max() <= TOL


@pytest.mark.parametrize("tokens", [1, 3, 40])
def test_experts_equal_a_dense_mixture(twin: MiMoForCausalLM, tokens: int) -> None:
    """Grouping by expert must equal running every expert on every token and mixing by routing weight."""
    moe = twin.model.layers[1].mlp
    assert isinstance(moe, MoE)
    x = torch.randn(tokens, twin.config.hidden_size, generator=torch.Generator().manual_seed(3))
    weights, chosen = moe.gate(x)
    gate, up = torch.einsum("td,eid->tei", x, moe.experts.gate_up_proj).chunk(2, dim=-1)  # (T, E, I) each
    every = torch.einsum("tei,edi->ted", F.silu(gate) * up, moe.experts.down_proj)  # (T, E, D)
    mix = torch.zeros(tokens, twin.config.n_routed_experts).scatter(1, chosen, weights)  # (T, E)
    expected = torch.einsum("te,ted->td", mix, every)
    assert torch.allclose(moe.experts(x, weights, chosen), expected, atol=1e-6, rtol=1e-5)


def test_router_bias_changes_selection_but_not_weights(twin: MiMoForCausalLM) -> None:
    router = twin.model.layers[2].mlp.gate
    x = torch.randn(5, twin.config.hidden_size, generator=torch.Generator().manual_seed(4))
    weights, chosen = router(x)
    scores = torch.sigmoid(x @ router.weight.T)
    picked = scores.gather(1, chosen)
    assert torch.allclose(weights, picked / picked.sum(-1, keepdim=True))
    assert torch.equal(
        chosen.sort(-1).values, torch.topk(scores + router.e_score_correction_bias, 2).indices.sort(-1).values
    )


@pytest.mark.parametrize(
    "overrides",
    [
        dict(sliding_window_size=4, num_hidden_layers=3, layer_types=None),
        dict(mlp_layer_types=["sparse"] * 6, num_key_value_heads=2, tie_word_embeddings=True),
    ],
    ids=["window-4", "all-moe-tied"],
)
def test_other_shapes_match(overrides: dict) -> None:
    reference = tiny_model(seed=5, **{k: v for k, v in overrides.items() if v is not None})
    twin = engine_twin(reference)
    ids = torch.randint(0, 256, (30,), generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        expected = reference(ids[None]).logits[0]
    cache = fresh_cache(twin)
    first = twin(ids[:3], cache, all_logits=True).logits
    steps = [twin(ids[i : i + 1], cache).logits[0] for i in range(3, len(ids))]
    assert (torch.cat((first, torch.stack(steps))) - expected).abs().max() <= TOL
