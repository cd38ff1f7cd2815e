"""Speculative decoding with MTP heads: greedy identity, grammars, rollback, the sampled distribution, and
acceptance once the heads are self-distilled. Tiny models: window 16, so 100 tokens cross it six times."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator

import pytest
import torch
from transformers import MiMoV2FlashForCausalLM

from mimo_agent.engine.engine import Engine, GenerationResult
from mimo_agent.engine.kv_cache import KVCache, RingKV
from mimo_agent.engine.model import MiMoForCausalLM
from mimo_agent.engine.mtp import MTPHeads
from mimo_agent.engine.mtp_draft import MTPDrafter
from mimo_agent.engine.mtp_training import distill_samples, self_distill, target_hidden
from mimo_agent.engine.sampling import Sampler, SamplingParams
from mimo_agent.engine.speculative import DraftPolicy, SpeculativeStep, accept_or_resample, speculative_decode
from mimo_agent.toolcalls.grammar import GrammarCompiler
from mimo_agent.toolcalls.logits_processor import GrammarLogitsProcessor
from tests.engine.conftest import engine_twin
from tests.engine.tiny_models import tiny_model
from tests.toolcalls.grammar_helpers import tiny_tokenizer

PROMPTS = [
    [3, 141, 59, 26, 53, 58, 97, 93],
    [23, 84, 62, 64, 33, 83, 27, 95],
    [2, 88, 41, 97, 16, 93, 99, 37],
]
# A distilled prompt with its last token changed: the distilled heads' drafts are a mix of hits and misses.
MIXED = PROMPTS[1][:7] + [5]
NEW = 100


def random_heads(model: MiMoForCausalLM, seed: int = 0) -> MTPHeads:
    torch.manual_seed(seed)
    return MTPHeads(model.config, 3).eval()


@pytest.fixture(scope="module")
def distilled(twin: MiMoForCausalLM) -> MTPHeads:
    """Heads self-distilled on the target's own greedy continuations of PROMPTS (a few seconds)."""
    heads = random_heads(twin)
    samples = distill_samples(twin, PROMPTS, NEW)
    self_distill(twin, heads, samples, steps=200, lr=1e-2)
    return heads


def run(
    model: MiMoForCausalLM,
    heads: MTPHeads | None,
    steps: int | None,
    prompt: list[int] = PROMPTS[0],
    params: SamplingParams | None = None,
    processors: tuple = (),
    adaptive: bool = False,
) -> tuple[Engine, GenerationResult]:
    """Fixed k unless `adaptive`: these tests exercise drafting and rollback at every step."""
    engine = Engine(model, max_seq_len=256, mtp=heads)
    result = engine.complete(
        prompt,
        params=params or SamplingParams(max_new_tokens=NEW),
        logits_processors=processors,
        mtp_steps=steps,
        mtp_adaptive=adaptive,
    )
    return engine, result


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("drafts", ["random", "distilled"])
def test_greedy_output_is_plain_greedy_token_for_token(
    twin: MiMoForCausalLM, distilled: MTPHeads, steps: int, drafts: str
) -> None:
    heads = distilled if drafts == "distilled" else random_heads(twin)
    _, plain = run(twin, heads, 0, MIXED)
    _, spec = run(twin, heads, steps, MIXED)
    assert plain.stats.speculation is None
    assert spec.token_ids == plain.token_ids and len(spec.token_ids) == NEW
    stats = spec.stats.speculation
    assert stats is not None and stats.draft_tokens == steps
    assert sum(stats.histogram) == stats.steps and len(stats.histogram) <= steps + 2
    assert sum(n * c for n, c in enumerate(stats.histogram)) == NEW - 1  # the first token comes from prefill
    if drafts == "distilled":
        assert stats.accepted_length > 1.2  # drafts are accepted, so the accept path is exercised


@pytest.mark.parametrize("drafts", ["random", "distilled"])
def test_adaptive_draft_length_keeps_greedy_output(
    twin: MiMoForCausalLM, distilled: MTPHeads, drafts: str
) -> None:
    heads, prompt = (distilled, PROMPTS[0]) if drafts == "distilled" else (random_heads(twin), MIXED)
    _, plain = run(twin, heads, 0, prompt)
    _, spec = run(twin, heads, 3, prompt, adaptive=True)
    assert spec.token_ids == plain.token_ids
    stats = spec.stats.speculation
    assert sum(n * c for n, c in enumerate(stats.histogram)) + stats.plain_steps == NEW - 1
    if drafts == "distilled":
        assert stats.accepted_length > 1.5 and stats.plain_steps < NEW // 4  # good drafts keep k up
    else:
        assert stats.plain_steps > NEW // 2  # rejected drafts turn drafting off …
        assert stats.steps > 1  # … after which it probes again


def test_random_heads_cost_little_more_than_plain_decoding(twin: MiMoForCausalLM) -> None:
    """The work behind the bench's "no slower than ~0.9× plain decoding" with drafts that never agree
    (timings belong in evals/bench_mtp.py): few drafts are made and few extra positions verified, so
    the extra cost is a few head runs and verified positions per hundred tokens."""
    _, spec = run(twin, random_heads(twin), 3, PROMPTS[2], adaptive=True)
    stats = spec.stats.speculation
    assert stats.drafted <= 0.15 * NEW  # vs 3 per token with fixed k = 3
    assert stats.steps + stats.plain_steps <= NEW  # never more target forwards than plain decoding


def policy_step(drafted: int, accepted: int) -> SpeculativeStep:
    return SpeculativeStep(list(range(accepted + 1)), drafted, 0.0, 0.0)


def test_draft_policy_shrinks_to_plain_decoding_probes_and_grows_back() -> None:
    policy = DraftPolicy(3)
    assert policy.next_steps() == 3  # optimistic start: every head
    seen = []
    for _ in range(6):
        steps = policy.next_steps()
        seen.append(steps)
        if steps:
            policy.record(policy_step(steps, 0))
        else:
            policy.record_plain()
    assert seen[0] == 3 and seen[-1] == 0 and seen == sorted(seen, reverse=True)
    for gap in (8, 16, 32, 64, 64):  # failed probes back off
        for _ in range(gap - policy.plain_run):
            assert policy.next_steps() == 0
            policy.record_plain()
        assert policy.next_steps() == 1  # a probe
        policy.record(policy_step(1, 0))
    for _ in range(64):
        assert policy.next_steps() == 0
        policy.record_plain()
    rounds = 0
    while policy.next_steps() < 3:
        steps = max(1, policy.next_steps())
        policy.record(policy_step(steps, steps))  # every draft accepted
        rounds += 1
    assert rounds <= 12  # agreeing drafts bring every head back within a dozen steps


def test_distilled_heads_reach_accepted_length_above_1_5(twin: MiMoForCausalLM, distilled: MTPHeads) -> None:
    _, spec = run(twin, distilled, 3)
    assert spec.stats.speculation.accepted_length > 1.5
    assert spec.stats.speculation.draft_seconds > 0 and spec.stats.speculation.verify_seconds > 0


class BanTokens:
    """A stateless processor that forbids a token set; counts its accepted tokens to check rollbacks."""

    def __init__(self, banned: set[int]) -> None:
        self.banned = torch.tensor(sorted(banned))
        self.accepted: list[int] = []

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        logits[self.banned] = float("-inf")
        return logits

    def accept(self, token_id: int) -> bool:
        if token_id in self.banned.tolist():
            return False
        self.accepted.append(token_id)
        return True

    def rollback(self, num_tokens: int) -> None:
        del self.accepted[len(self.accepted) - num_tokens :]

    def is_finished(self) -> bool:
        return False


def test_banned_tokens_constrain_drafts_and_verification(twin: MiMoForCausalLM, distilled: MTPHeads) -> None:
    _, free = run(twin, distilled, 3)
    counts = Counter(free.token_ids)
    banned = {next(t for t in free.token_ids[NEW // 2 :] if counts[t] == 1)}  # changes only the second half
    plain_ban, spec_ban = BanTokens(banned), BanTokens(banned)
    _, plain = run(twin, distilled, 0, processors=(plain_ban,))
    _, spec = run(twin, distilled, 3, processors=(spec_ban,))
    assert plain.token_ids != free.token_ids and not banned & set(plain.token_ids)
    assert spec.token_ids == plain.token_ids
    assert spec_ban.accepted == spec.token_ids  # every rejected draft was rolled back
    assert spec.stats.speculation.accepted_length > 1.2


@pytest.fixture(scope="module")
def grammar_model() -> MiMoForCausalLM:
    return engine_twin(tiny_model(seed=3, vocab_size=len(tiny_tokenizer())))


@pytest.mark.parametrize("steps", [1, 3])
def test_grammar_mask_gives_identical_output_and_matcher_state(
    grammar_model: MiMoForCausalLM, steps: int
) -> None:
    compiled = GrammarCompiler.from_tokenizer(tiny_tokenizer()).json_schema(
        {"type": "object", "properties": {"n": {"type": "integer"}, "ok": {"type": "boolean"}}}
    )
    prompt = tiny_tokenizer().encode("Answer in JSON:")
    heads = random_heads(grammar_model, seed=1)
    plain_proc, spec_proc = GrammarLogitsProcessor(compiled), GrammarLogitsProcessor(compiled)
    params = SamplingParams(max_new_tokens=60)
    _, plain = run(grammar_model, heads, 0, prompt, params, (plain_proc,))
    engine, spec = run(grammar_model, heads, steps, prompt, params, (spec_proc,))
    assert spec.token_ids == plain.token_ids
    assert spec.stats.speculation.steps > 0
    assert spec_proc.is_finished() == plain_proc.is_finished()
    # the matcher holds exactly the committed tokens: both accept (or refuse) the same next tokens
    probe = torch.zeros(len(tiny_tokenizer()))
    if not plain_proc.is_finished():
        assert torch.equal(spec_proc.process(probe.clone()), plain_proc.process(probe.clone()))


def held(cache: KVCache) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Keys and values of every position a next query can read, in position order."""
    for layer in cache.layers:
        if isinstance(layer, RingKV):
            slots = torch.arange(max(0, cache.length - layer.window), cache.length) % layer.size
        else:
            slots = torch.arange(cache.length)
        yield layer.k[:, slots], layer.v[:, slots]


@pytest.mark.parametrize("drafts", ["random", "distilled"])
def test_rollback_leaves_caches_as_a_run_that_never_saw_rejected_drafts(
    twin: MiMoForCausalLM, distilled: MTPHeads, drafts: str
) -> None:
    heads = distilled if drafts == "distilled" else random_heads(twin)
    engine, spec = run(twin, heads, 3, MIXED)
    assert spec.stats.speculation.drafted > spec.stats.speculation.steps  # drafts were made …
    assert spec.stats.speculation.steps + spec.stats.speculation.drafted > NEW - 1  # … and some rejected
    committed = MIXED + spec.token_ids
    assert engine.cached_ids == committed[:-1] and engine.cache.length == len(committed) - 1
    clean = Engine(twin, max_seq_len=256)
    clean.prefill(committed[:-1])
    for (k, v), (k_ref, v_ref) in zip(held(engine.cache), held(clean.cache), strict=True):
        assert torch.allclose(k, k_ref, atol=1e-5) and torch.allclose(v, v_ref, atol=1e-5)
    # the MTP rings: a drafter that only ever saw the committed tokens
    drafter = engine.drafter
    draft_heads, draft_head = engine.draft_modules()  # the weights the engine drafts with
    fresh = MTPDrafter(draft_heads, twin.model.embed_tokens, draft_head, 3, drafter.rollback, 512)
    with torch.inference_mode():
        fresh.observe(target_hidden(twin, committed[:-1]), 0)
        fresh.catch_up(committed)
    for k in range(3):
        done = min(drafter.done[k], fresh.done[k])
        assert done >= len(committed) - 6 - k  # at most one verify step behind the target
        slots = torch.arange(max(0, done - drafter.rings[k].window), done) % drafter.rings[k].size
        for ours, ref in ((drafter.rings[k].k, fresh.rings[k].k), (drafter.rings[k].v, fresh.rings[k].v)):
            assert torch.allclose(ours[:, slots], ref[:, slots], atol=1e-5)


def test_prefix_reuse_after_speculation_matches_a_cold_engine(
    twin: MiMoForCausalLM, distilled: MTPHeads
) -> None:
    """The next prompt extends the previous prompt and output; reused caches (target and MTP) stay exact."""
    engine, first = run(twin, distilled, 3)
    follow_up = PROMPTS[0] + first.token_ids + PROMPTS[1]
    warm = engine.complete(follow_up, params=SamplingParams(max_new_tokens=40), mtp_steps=3)
    cold = Engine(twin, max_seq_len=256).complete(follow_up, params=SamplingParams(max_new_tokens=40))
    assert warm.stats.reused_prefix_tokens > len(PROMPTS[0])
    assert warm.token_ids == cold.token_ids


def test_speculation_right_after_a_plain_request_on_the_same_prompt(
    twin: MiMoForCausalLM, distilled: MTPHeads
) -> None:
    """MTP switched on for a prompt the cache already holds (drafter restarted a few positions back, with
    fewer hiddens than heads): drafting must not read positions it no longer has, and output stays exact."""
    engine = Engine(twin, max_seq_len=256, mtp=distilled)
    engine.complete(PROMPTS[0], params=SamplingParams(max_new_tokens=1), mtp_steps=0)
    spec = engine.complete(
        PROMPTS[0], params=SamplingParams(max_new_tokens=NEW), mtp_steps=3, mtp_adaptive=False
    )
    _, plain = run(twin, None, 0)
    assert spec.token_ids == plain.token_ids


def tv(counts: Counter, p: torch.Tensor) -> float:
    total = sum(counts.values())
    return 0.5 * sum(abs(counts.get(i, 0) / total - float(p[i])) for i in range(p.numel()))


def test_rejection_rule_reproduces_the_target_distribution() -> None:
    """Draft d ~ q, then accept_or_resample: the output is distributed as p. Sanity check: the same bound
    fails when the rule is handed a q other than the one the drafts came from."""
    p = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05])
    q = torch.tensor([0.05, 0.1, 0.15, 0.3, 0.4])
    sampler = Sampler(SamplingParams(temperature=1.0, seed=0))
    right, wrong = Counter(), Counter()
    for _ in range(20000):
        draft = sampler.draw(q)
        right[accept_or_resample(p, q, draft, sampler)] += 1
        wrong[accept_or_resample(p, p, draft, sampler)] += 1  # pretends the draft came from p
    assert tv(right, p) < 0.02
    assert tv(wrong, p) > 0.1


def test_sampling_with_mtp_keeps_the_target_distribution() -> None:
    """End to end on an 8-token vocabulary: the first token a verify step commits, over many draws,
    matches the target's distribution there, though the head is sharpened to propose something else."""
    model = engine_twin(tiny_model(seed=5, vocab_size=8))
    heads = random_heads(model, seed=2)
    with torch.no_grad():
        heads.layers[0].final_layernorm.weight.mul_(30.0)  # a confident, wrong draft distribution
    prompt = [1, 5, 2, 7, 3, 3, 0, 6, 4]
    cache = KVCache(model.config, 64, torch.float32)
    with torch.inference_mode():
        out = model(torch.tensor(prompt), cache)
    p = torch.softmax(out.logits[-1].float(), -1)  # the target's next token after the whole prompt
    cache.truncate(len(prompt) - 1)
    drafter = MTPDrafter(heads, model.model.embed_tokens, model.lm_head, 1, 4, 64)
    drafter.observe(out.hidden[:-1], 0)
    sampler, counts, drafts = Sampler(SamplingParams(temperature=1.0, seed=0)), Counter(), Counter()
    for _ in range(1000):
        step = speculative_decode(model, cache, drafter, prompt, 1, sampler)
        counts[step.tokens[0]] += 1
        drafts[step.drafted and step.tokens[0] == step.tokens[-1]] += 1
        cache.truncate(len(prompt) - 1)
        drafter.truncate(len(prompt) - 1)
    assert tv(counts, p) < 0.08  # E[TV] ≈ 0.03 at 1000 draws
    # Sanity: the drafts alone are far from p, so keeping them blindly would break the bound above.
    q = Counter()
    with torch.inference_mode():
        drafter.draft(prompt, 1, lambda logits: q.update({"q": torch.softmax(logits, -1)}) or None)
    assert 0.5 * float((q["q"] - p).abs().sum()) > 0.3


def test_sampled_generation_with_mtp_is_reproducible(twin: MiMoForCausalLM, distilled: MTPHeads) -> None:
    params = SamplingParams(temperature=0.8, top_p=0.9, top_k=20, max_new_tokens=40, seed=3)
    _, a = run(twin, distilled, 3, params=params)
    _, b = run(twin, distilled, 3, params=params)
    assert a.token_ids == b.token_ids and len(a.token_ids) == 40
    assert a.stats.speculation.steps < 40


def test_steps_beyond_the_heads_are_refused(twin: MiMoForCausalLM) -> None:
    from mimo_agent.engine.errors import EngineError

    with pytest.raises(EngineError, match="mtp_steps=4.*3 MTP layers"):
        run(twin, random_heads(twin), 4)


def test_reference_hidden_state_is_before_the_final_norm(twin: MiMoForCausalLM) -> None:
    """MTP reads the residual stream before `model.norm`: the logits are lm_head(norm(hidden))."""
    reference: MiMoV2FlashForCausalLM = tiny_model(seed=0)
    ids = torch.tensor(PROMPTS[1])
    hidden = target_hidden(twin, PROMPTS[1])
    with torch.no_grad():
        logits = reference(ids[None]).logits[0]
        assert torch.allclose(twin.lm_head(twin.model.norm(hidden)), logits, atol=1e-5)


def test_bfloat16_weights_keep_speculative_greedy_identity(
    twin: MiMoForCausalLM, distilled: MTPHeads
) -> None:
    """Narrow weights in the target and the heads: drafts are accepted and the output is plain greedy's."""
    model, heads = copy.deepcopy(twin), copy.deepcopy(distilled)
    engine = Engine(model, max_seq_len=256, mtp=heads, weight_dtype=torch.bfloat16)
    assert model.lm_head.weight.dtype == heads.layers[0].eh_proj.weight.dtype == torch.bfloat16
    params = SamplingParams(max_new_tokens=NEW)
    plain = engine.complete(PROMPTS[0], params=params, mtp_steps=0)
    spec = engine.complete(PROMPTS[0], params=params, mtp_steps=3, mtp_adaptive=False)
    assert spec.token_ids == plain.token_ids
    assert spec.stats.speculation is not None and spec.stats.speculation.accepted_length > 1.2
