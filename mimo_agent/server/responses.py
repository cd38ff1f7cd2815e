"""Response bodies in OpenAI's shapes: the whole `chat.completion`, and the SSE stream of `chat.completion.chunk`s.

Stream layout, as OpenAI sends it: a first chunk with the role, one chunk per delta, a chunk with an empty
delta and the finish reason, then (with `stream_options.include_usage`) a chunk with no choices and the
usage, then `data: [DONE]`. An error after the stream started is sent as a `data: {"error": …}` event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from mimo_agent.engine.engine import GenerationStats
from mimo_agent.server.errors import APIError
from mimo_agent.server.service import Cancelled, Finished, Job
from mimo_agent.server.turns import Delta


def usage(prompt_tokens: int, stats: GenerationStats) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": stats.generated_tokens,
        "total_tokens": prompt_tokens + stats.generated_tokens,
        "prompt_tokens_details": {"cached_tokens": stats.reused_prefix_tokens},
    }


class CompletionIds:
    """The id, creation time and model name every object of one response shares."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model

    def header(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}


async def completion_body(job: Job, ids: CompletionIds, prompt_tokens: int) -> dict[str, Any]:
    """Wait for the job to end and build the non-streamed response."""
    async for item in job:
        if isinstance(item, APIError):
            raise item
        if isinstance(item, Cancelled):
            raise APIError(499, "the client closed the request", code="cancelled")
        if isinstance(item, Finished):
            assert job.assembler is not None, "a started job has an assembler"
            choice = {
                "index": 0,
                "message": job.assembler.message(),
                "finish_reason": item.finish_reason,
                "logprobs": None,
            }
            return {
                **ids.header("chat.completion"),
                "choices": [choice],
                "usage": usage(prompt_tokens, item.stats),
            }
    raise AssertionError("a job always ends with Finished, Cancelled or an error")


async def event_stream(
    job: Job, ids: CompletionIds, prompt_tokens: int, include_usage: bool
) -> AsyncIterator[str]:
    """The SSE body; closing it early (client gone) cancels the generation."""
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: Delta, finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _sse({**ids.header("chat.completion.chunk"), "choices": [choice], **extra})

    try:
        yield chunk({"role": "assistant", "content": ""})
        async for item in job:
            if isinstance(item, list):
                for delta in item:
                    yield chunk(delta)
            elif isinstance(item, Finished):
                yield chunk({}, item.finish_reason)
                if include_usage:
                    yield _sse(
                        {
                            **ids.header("chat.completion.chunk"),
                            "choices": [],
                            "usage": usage(prompt_tokens, item.stats),
                        }
                    )
            elif isinstance(item, APIError):
                yield _sse(item.body())
                return
            elif isinstance(item, Cancelled):
                return
        yield "data: [DONE]\n\n"
    finally:
        job.cancel()


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
