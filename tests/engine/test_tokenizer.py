"""EngineTokenizer loading, stop ids, round trips and streaming detokenisation on the tiny MiMo-format tokenizer."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mimo_agent.engine.detokenizer import IncrementalDetokenizer
from mimo_agent.engine.errors import CheckpointError, ConfigError
from mimo_agent.engine.tokenizer import EngineTokenizer, packaged_chat_template
from mimo_agent.evals.tiny_model.tokenizer import CONTROL_TOKENS, MARKUP_TOKENS
from tests.tiny_tokenizer import build_tiny_tokenizer

# Pieces for random text: ASCII, accented Latin, CJK, Hangul, Cyrillic, emoji (4-byte, skin tone, ZWJ family).
PIECES = [
    "def ", "return", " x", "\n", "    ", "{", '"key": ', "42", "!", " the", "é", "ñ", "ü", "ß", "—", "…",
    "中", "文", "测试", "你好", "日本語", "한국어", "Привет", "🙂", "🚀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "𝔘", "\t", "  ",
    "<tool_call>", "</think>", "<|im_end|>",
]  # fmt: skip


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40))) for _ in range(count)]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_tokenizer")
    build_tiny_tokenizer(directory)
    return directory


@pytest.fixture(scope="module")
def tok(tokenizer_dir: Path) -> EngineTokenizer:
    return EngineTokenizer.from_pretrained(tokenizer_dir)


def test_tiny_tokenizer_is_deterministic_and_reloadable(tmp_path: Path, tokenizer_dir: Path) -> None:
    build_tiny_tokenizer(tmp_path)
    assert (tmp_path / "tokenizer.json").read_bytes() == (tokenizer_dir / "tokenizer.json").read_bytes()
    assert (tmp_path / "chat_template.jinja").read_text("utf-8") == packaged_chat_template()


def test_special_tokens_are_single_ids_after_the_bpe_vocabulary(tok: EngineTokenizer) -> None:
    vocab = tok.hf.get_vocab()
    special_ids = [vocab[name] for name in (*CONTROL_TOKENS, *MARKUP_TOKENS)]
    assert special_ids == list(range(len(tok) - len(special_ids), len(tok)))
    for name, token_id in zip((*CONTROL_TOKENS, *MARKUP_TOKENS), special_ids, strict=True):
        assert tok.encode(f"a{name}b")[1:-1] == [token_id]


def test_encode_adds_no_special_tokens(tok: EngineTokenizer) -> None:
    ids = tok.encode("hello")
    assert ids and tok.decode(ids) == "hello"
    assert tok.encode("") == []


def test_stop_ids_are_resolved_by_name(tok: EngineTokenizer) -> None:
    vocab = tok.hf.get_vocab()
    assert tok.stop_token_ids == [vocab["<|im_end|>"], vocab["<|endoftext|>"]]


def test_stop_ids_include_config_and_generation_config_eos(tmp_path: Path) -> None:
    build_tiny_tokenizer(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"eos_token_id": 7}))
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": [8, 7]}))
    tok = EngineTokenizer.from_pretrained(tmp_path)
    vocab = tok.hf.get_vocab()
    assert tok.stop_token_ids == [vocab["<|im_end|>"], vocab["<|endoftext|>"], 7, 8]


@pytest.mark.parametrize("value", ["</s>", -1, [1, "x"], True])
def test_bad_config_eos_is_a_config_error_naming_field_and_file(tmp_path: Path, value: object) -> None:
    build_tiny_tokenizer(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"eos_token_id": value}))
    with pytest.raises(ConfigError, match=r"config\.json.*eos_token_id"):
        EngineTokenizer.from_pretrained(tmp_path)


def test_missing_directory_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        EngineTokenizer.from_pretrained(tmp_path / "nowhere")


def test_directory_without_tokenizer_is_a_checkpoint_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="cannot load a tokenizer"):
        EngineTokenizer.from_pretrained(tmp_path)


def test_checkpoint_template_wins_over_the_packaged_one(tmp_path: Path) -> None:
    build_tiny_tokenizer(tmp_path)
    (tmp_path / "chat_template.jinja").write_text("{% for m in messages %}[{{ m.role }}]{% endfor %}")
    tok = EngineTokenizer.from_pretrained(tmp_path)
    assert tok.render_chat([{"role": "user", "content": "hi"}]) == "[user]"


def test_packaged_template_is_the_fallback(tmp_path: Path) -> None:
    build_tiny_tokenizer(tmp_path)
    (tmp_path / "chat_template.jinja").unlink()
    tok = EngineTokenizer.from_pretrained(tmp_path)
    assert tok.hf.chat_template is None
    assert tok.chat_template == packaged_chat_template()
    assert tok.render_chat([{"role": "user", "content": "hi"}]).endswith(
        "<|im_start|>user\nhi<|im_end|><|im_start|>assistant\n<think></think>"
    )


def test_encode_chat_tokenises_the_rendered_prompt(tok: EngineTokenizer) -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    ids = tok.encode_chat(messages)
    vocab = tok.hf.get_vocab()
    assert ids[0] == vocab["<|im_start|>"]
    assert ids[-2:] == [vocab["<think>"], vocab["</think>"]]
    assert tok.decode(ids) == tok.render_chat(messages)


@pytest.mark.parametrize("text", random_texts(200, seed=1))
def test_round_trip(tok: EngineTokenizer, text: str) -> None:
    assert tok.decode(tok.encode(text)) == text


def stream(detok: IncrementalDetokenizer, ids: list[int]) -> list[str]:
    deltas = [detok.push(token_id) for token_id in ids]
    return [*deltas, detok.flush()]


def test_streaming_equals_decode_and_never_splits_a_character(tok: EngineTokenizer) -> None:
    split_somewhere = False
    for text in random_texts(300, seed=2):
        ids = tok.encode(text)
        deltas = stream(tok.detokenizer(), ids)
        assert "".join(deltas) == tok.decode(ids) == text
        assert not any("\ufffd" in delta for delta in deltas), (text, deltas)
        split_somewhere |= any("\ufffd" in tok.decode([i]) for i in ids)
    assert split_somewhere, "the corpus must contain characters spread over several tokens"


def test_streaming_random_ids_equals_decode(tok: EngineTokenizer) -> None:
    """Arbitrary id sequences (invalid UTF-8 included): the deltas still concatenate to `decode`."""
    rng = random.Random(3)
    for _ in range(300):
        ids = [rng.randrange(len(tok)) for _ in range(rng.randint(1, 30))]
        assert "".join(stream(tok.detokenizer(), ids)) == tok.decode(ids)


def test_split_character_is_held_until_complete(tok: EngineTokenizer) -> None:
    ids = tok.encode("🙂")
    assert len(ids) > 1
    detok = tok.detokenizer()
    assert [detok.push(i) for i in ids[:-1]] == [""] * (len(ids) - 1)
    assert detok.push(ids[-1]) == "🙂"
    assert detok.flush() == ""


def test_flush_releases_an_unfinished_character_like_decode(tok: EngineTokenizer) -> None:
    ids = tok.encode("ok🙂")[:-1]
    deltas = stream(tok.detokenizer(), ids)
    assert deltas[-1] == "\ufffd" or deltas[-1].endswith("\ufffd")
    assert "".join(deltas) == tok.decode(ids)


def test_detokenizer_decodes_a_bounded_window(tok: EngineTokenizer) -> None:
    """Guards against re-decoding the whole output per token (quadratic cost on long generations)."""
    windows: list[int] = []

    def counting_decode(ids: list[int]) -> str:
        windows.append(len(ids))
        return tok.decode(ids)

    ids = tok.encode("".join(random_texts(60, seed=4)))
    assert len(ids) > 1000
    detok = IncrementalDetokenizer(counting_decode)
    assert "".join(stream(detok, ids)) == tok.decode(ids)
    assert detok.token_ids == ids
    assert max(windows) <= 12  # a held-back 4-byte character plus the previous emission, not the output


def test_named_templates_use_the_default_one(tmp_path: Path) -> None:
    build_tiny_tokenizer(tmp_path)
    (tmp_path / "chat_template.jinja").unlink()
    config = json.loads((tmp_path / "tokenizer_config.json").read_text("utf-8"))
    config["chat_template"] = [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    assert EngineTokenizer.from_pretrained(tmp_path).render_chat([{"role": "user", "content": "x"}]) == "D"
