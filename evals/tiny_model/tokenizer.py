"""The demo model's tokenizer: a small byte-level BPE in MiMo's format, trained on its own training data.

Like the real Qwen2-family tokenizer, the BPE vocabulary comes first (256 byte symbols, then merges),
then the chat format's tokens: `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` as special tokens and the
markup (`<think>`, `<tool_call>`, …) as plain added tokens, so grammars and decoding treat them as text.
Optionally the XML call pieces (`<function=`, `<parameter=`, …) are added tokens too, which shortens
every call. The directory it is saved to holds the packaged MiMo chat template, so
`AutoTokenizer.from_pretrained(dir, local_files_only=True)` and `EngineTokenizer.from_pretrained(dir)`
load it like a checkpoint's tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from mimo_agent.engine.tokenizer import packaged_chat_template

CONTROL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
MARKUP_TOKENS = ("<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")
CALL_TOKENS = ("<function=", "<parameter=", "</parameter>", "</function>")
DEFAULT_VOCAB_SIZE = 3072  # BPE vocabulary (bytes + merges); the added tokens come on top
# Qwen2's pre-tokenizer split: contractions, words, single digits, punctuation runs, newlines, spaces.
SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


class MaskError(ValueError):
    """An assistant span does not start or end on a token boundary, so the loss mask would be wrong."""


def added_tokens(call_tokens: bool) -> tuple[str, ...]:
    """The non-special added tokens, in id order."""
    return MARKUP_TOKENS + (CALL_TOKENS if call_tokens else ())


def byte_level_bpe(
    texts: Iterable[str], vocab_size: int, markup: Sequence[str] = MARKUP_TOKENS, min_frequency: int = 2
) -> Tokenizer:
    """A byte-level BPE trained on `texts`, with the control tokens (special) and `markup` added after it.

    The added tokens are cut out of the texts before training so no merge is spent on their pieces.
    The trainer is deterministic for a given corpus order and vocabulary size.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    cut = re.compile(
        "|".join(re.escape(token) for token in sorted({*CONTROL_TOKENS, *markup}, key=len, reverse=True))
    )
    tokenizer.train_from_iterator(
        (piece for text in texts for piece in cut.split(text) if piece), trainer=trainer
    )
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in CONTROL_TOKENS])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in markup])
    return tokenizer


def as_transformers(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    """The transformers wrapper with MiMo's stop/pad tokens and the packaged chat template."""
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        clean_up_tokenization_spaces=False,
    )
    wrapped.chat_template = packaged_chat_template()
    return wrapped


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE, call_tokens: bool = True
) -> PreTrainedTokenizerFast:
    return as_transformers(byte_level_bpe(texts, vocab_size, added_tokens(call_tokens)))


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, directory: Path) -> None:
    """tokenizer.json, tokenizer_config.json and chat_template.jinja, as a checkpoint ships them."""
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory)


def encode_with_mask(
    tokenizer: PreTrainedTokenizerFast, text: str, spans: Sequence[Sequence[int]]
) -> tuple[list[int], list[int]]:
    """Token ids of `text` and a 0/1 mask that is 1 exactly on the tokens of the assistant `spans`.

    Each span is encoded on its own; the pieces must join to the ids of the whole text, which holds when
    every span starts and ends on a token boundary (they sit between `</think>` and `<|im_end|>`).
    """
    ids: list[int] = []
    mask: list[int] = []
    cursor = 0
    for start, end in [*spans, (len(text), len(text))]:
        for piece, flag in ((text[cursor:start], 0), (text[start:end], 1)):
            piece_ids = tokenizer.encode(piece, add_special_tokens=False) if piece else []
            ids += piece_ids
            mask += [flag] * len(piece_ids)
        cursor = end
    if ids != tokenizer.encode(text, add_special_tokens=False):
        raise MaskError(
            "an assistant span boundary falls inside a token: encoding by pieces differs from the whole"
        )
    return ids, mask
