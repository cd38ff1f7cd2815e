"""SamplingParams validation, Sampler distributions and seeding, and StopMatcher across streamed deltas."""

from __future__ import annotations

import math
import random

import pytest
import torch

from mimo_agent.engine.sampling import Sampler, SamplingParams, StopMatcher


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.1),
        ("temperature", math.inf),
        ("temperature", math.nan),
        ("temperature", "hot"),
        ("top_p", 0.0),
        ("top_p", 1.5),
        ("top_p", True),
        ("top_k", -1),
        ("top_k", 2.5),
        ("max_new_tokens", 0),
        ("max_new_tokens", None),
        ("stop", "###"),
        ("stop", [""]),
        ("stop", ["ok", 3]),
        ("stop_token_ids", [-1]),
        ("stop_token_ids", [1.0]),
        ("seed", -5),
        ("seed", "42"),
    ],
)
def test_invalid_params_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"SamplingParams\.{field} "):
        SamplingParams(**{field: value})


def test_defaults_are_greedy_and_lists_are_not_shared() -> None:
    a, b = SamplingParams(), SamplingParams()
    assert a.greedy and a.temperature == 0.0 and a.top_p == 1.0 and a.top_k == 0 and a.max_new_tokens == 256
    a.stop.append("x")
    assert b.stop == [] and b.stop_token_ids == [] and b.seed is None


def test_temperature_zero_is_argmax() -> None:
    logits = torch.randn(100, generator=torch.Generator().manual_seed(0))
    sampler = Sampler(SamplingParams(temperature=0.0, top_k=5, top_p=0.5, seed=1))
    assert sampler.sample(logits) == int(logits.argmax())
    probs = sampler.probs(logits)
    assert probs[int(logits.argmax())] == 1.0 and probs.sum() == 1.0


def test_probs_apply_temperature() -> None:
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    probs = Sampler(SamplingParams(temperature=0.5)).probs(logits)
    torch.testing.assert_close(probs, torch.softmax(logits / 0.5, dim=-1))


@pytest.mark.parametrize("temperature", [1e-300, 1e-12, 9e-6])
def test_tiny_temperatures_are_greedy_not_nan(temperature: float) -> None:
    """Regression: temperature=1e-300 divided the logits to inf, so softmax gave NaN and sampling failed."""
    logits = torch.randn(100, generator=torch.Generator().manual_seed(2)) * 30
    sampler = Sampler(SamplingParams(temperature=temperature, seed=0))
    probs = sampler.probs(logits)
    assert sampler.params.greedy and bool(torch.isfinite(probs).all())
    assert probs[int(logits.argmax())] == 1.0 and sampler.sample(logits) == int(logits.argmax())
    assert not SamplingParams(temperature=1e-5).greedy, "the guard stops at GREEDY_BELOW"


def test_top_k_keeps_exactly_the_k_largest() -> None:
    logits = torch.randn(50, generator=torch.Generator().manual_seed(1))
    probs = Sampler(SamplingParams(temperature=1.0, top_k=7)).probs(logits)
    kept = set(torch.nonzero(probs).flatten().tolist())
    assert kept == set(torch.topk(logits, 7).indices.tolist())
    idx = torch.tensor(sorted(kept))
    torch.testing.assert_close(probs[idx], torch.softmax(logits[idx], dim=-1))


def test_top_k_larger_than_vocab_keeps_everything() -> None:
    logits = torch.tensor([0.0, 1.0, 2.0])
    probs = Sampler(SamplingParams(temperature=1.0, top_k=10)).probs(logits)
    torch.testing.assert_close(probs, torch.softmax(logits, dim=-1))


@pytest.mark.parametrize(
    ("top_p", "kept"), [(0.3, {0}), (0.7, {0, 1}), (0.85, {0, 1, 2}), (0.99, {0, 1, 2, 3})]
)
def test_top_p_keeps_the_smallest_set_reaching_p(top_p: float, kept: set[int]) -> None:
    base = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = base.log()[[2, 0, 3, 1]]  # shuffled: positions of 0.5, 0.3, 0.15, 0.05 are 1, 3, 0, 2
    order = [1, 3, 0, 2]
    probs = Sampler(SamplingParams(temperature=1.0, top_p=top_p)).probs(logits)
    assert {order.index(i) for i in torch.nonzero(probs).flatten().tolist()} == kept
    expected = torch.zeros(4)
    for rank in kept:
        expected[order[rank]] = base[rank]
    torch.testing.assert_close(probs, expected / expected.sum())


def test_top_k_then_top_p_and_masked_logits() -> None:
    logits = torch.tensor([3.0, 2.9, 2.8, -math.inf, 0.0, -math.inf])
    sampler = Sampler(SamplingParams(temperature=1.0, top_k=4, top_p=0.6, seed=0))
    probs = sampler.probs(logits)
    assert set(torch.nonzero(probs).flatten().tolist()) == {0, 1}
    assert all(sampler.sample(logits) in (0, 1) for _ in range(200))


def test_seed_makes_sampling_reproducible() -> None:
    logits = torch.zeros(1000)

    def draw(seed: int) -> list[int]:
        sampler = Sampler(SamplingParams(temperature=1.0, seed=seed))
        return [sampler.sample(logits) for _ in range(50)]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_sample_frequencies_follow_probs() -> None:
    logits = torch.tensor([1.0, 0.0, -1.0, 2.0])
    sampler = Sampler(SamplingParams(temperature=0.8, seed=3))
    counts = torch.bincount(torch.tensor([sampler.sample(logits) for _ in range(4000)]), minlength=4)
    torch.testing.assert_close(counts / 4000, sampler.probs(logits), atol=0.03, rtol=0)


def test_half_precision_logits() -> None:
    logits = torch.tensor([0.0, 5.0, 1.0], dtype=torch.bfloat16)
    assert Sampler(SamplingParams()).sample(logits) == 1
    probs = Sampler(SamplingParams(temperature=1.0, seed=0)).probs(logits)
    assert probs.dtype == torch.float32 and abs(float(probs.sum()) - 1) < 1e-6


def feed(matcher: StopMatcher, deltas: list[str]) -> tuple[str, bool]:
    emitted = []
    for delta in deltas:
        text, hit = matcher.push(delta)
        emitted.append(text)
        if hit:
            return "".join(emitted), True
    return "".join(emitted) + matcher.flush(), False


def test_stop_string_split_across_deltas() -> None:
    matcher = StopMatcher(["<|stop|>"])
    assert matcher.push("hello <") == ("hello ", False)
    assert matcher.push("|st") == ("", False)
    assert matcher.push("op|> tail") == ("", True)
    assert matcher.push("more") == ("", True)


def test_held_text_is_released_when_it_stops_matching() -> None:
    matcher = StopMatcher(["END"])
    assert matcher.push("the E") == ("the ", False)
    assert matcher.push("N") == ("", False)
    assert matcher.push("D") == ("", True)
    matcher = StopMatcher(["END"])
    assert matcher.push("EN") == ("", False)
    assert matcher.push("ough") == ("ENough", False)
    assert matcher.push("E") == ("", False)
    assert matcher.flush() == "E"


def test_earliest_of_several_stops_wins() -> None:
    assert feed(StopMatcher(["world", "lo w"]), ["hel", "lo world"]) == ("hel", True)
    assert feed(StopMatcher(["b", "abc"]), ["xa", "bc"]) == ("x", True)  # "abc" starts first


def test_no_stop_strings_passes_everything_through() -> None:
    matcher = StopMatcher([])
    assert matcher.push("any text") == ("any text", False)
    assert matcher.flush() == ""


def test_empty_stop_string_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        StopMatcher(["ok", ""])


def test_random_deltas_match_a_whole_text_search() -> None:
    rng = random.Random(0)
    for _ in range(500):
        text = "".join(rng.choice("abc🙂") for _ in range(rng.randint(0, 30)))
        stops = [
            "".join(rng.choice("abc🙂") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 3))
        ]
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 8))))
        deltas = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        hits = [i for i in (text.find(s) for s in stops) if i >= 0]
        expected = (text[: min(hits)], True) if hits else (text, False)
        assert feed(StopMatcher(stops), deltas) == expected, (text, stops, deltas)
