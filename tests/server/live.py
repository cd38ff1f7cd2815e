"""A tiny chat checkpoint (random weights, MiMo chat template) and `mimo-agent serve` running on it."""

from __future__ import annotations

from pathlib import Path

from mimo_agent.server.launch import ServerProcess
from tests.engine.tiny_models import save_tiny
from tests.tiny_tokenizer import build_tiny_tokenizer

API_KEY = "test-key"
# Enum and boolean values close in a few tokens, so a random model under the grammar finishes its calls.
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "Rome"]},
                "metric": {"type": "boolean"},
            },
            "required": ["city", "metric"],
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time",
        "parameters": {"type": "object", "properties": {"utc": {"type": "boolean"}}, "required": ["utc"]},
    },
}


def build_checkpoint(path: Path) -> Path:
    """Long enough a context for the agent's prompt (about 5K tokens with this tokenizer)."""
    tokenizer = build_tiny_tokenizer(path)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    save_tiny(path, seed=4, vocab_size=len(tokenizer), eos_token_id=eos, max_position_embeddings=8192)
    return path


def start_server(checkpoint: Path, *extra: str) -> ServerProcess:
    return ServerProcess(checkpoint, "--threads", "1", "--max-seq-len", "8192", *extra)
