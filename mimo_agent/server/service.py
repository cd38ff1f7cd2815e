"""One engine behind the HTTP server: requests become jobs that run one at a time on a worker thread.

The engine (and the tokenizer and grammar compiler it shares) is touched only by that thread, so the
event loop stays free to accept, validate and stream while a generation runs, and later requests wait in
the executor's FIFO queue. A job's tokens cross to the loop through an `asyncio.Queue`; setting its
cancel flag (client gone) stops the generation at the next token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch
import xgrammar as xgr
from jinja2 import TemplateError

from mimo_agent.engine.engine import Engine, GenerationResult, GenerationStats
from mimo_agent.engine.errors import EngineError
from mimo_agent.engine.logits import LogitsProcessor
from mimo_agent.engine.sampling import SamplingParams
from mimo_agent.server.errors import APIError
from mimo_agent.server.schema import ChatCompletionRequest
from mimo_agent.server.turns import Delta, TurnAssembler
from mimo_agent.toolcalls.grammar import GrammarCompiler, GrammarError, GrammarOptions
from mimo_agent.toolcalls.logits_processor import GrammarLogitsProcessor
from mimo_agent.toolcalls.toolset import ToolSpecError

log = logging.getLogger(__name__)


@dataclass
class Started:
    """The request was rendered and its grammar compiled; generation begins."""

    prompt_tokens: int


@dataclass
class Finished:
    stats: GenerationStats
    finish_reason: str  # OpenAI's: stop | length | tool_calls


@dataclass
class Cancelled:
    pass


@dataclass
class Prepared:
    prompt_ids: list[int]
    params: SamplingParams
    processors: list[LogitsProcessor]
    assembler: TurnAssembler


class TurnEnd:
    """A logits processor that changes nothing and reports finished once `assembler.ended`: the engine's
    own way to stop, so an answer the server ends early still comes with its result and stats. The flag
    flips while the engine waits on its consumer, so it stops after at most one more token."""

    def __init__(self, assembler: TurnAssembler) -> None:
        self._assembler = assembler

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        return logits

    def accept(self, token_id: int) -> bool:
        return True

    def rollback(self, num_tokens: int) -> None:
        pass

    def is_finished(self) -> bool:
        return self._assembler.ended


Item = Started | list[Delta] | Finished | Cancelled | APIError


class Job:
    """One request's generation as seen from the event loop: an async stream of items, and a cancel flag."""

    def __init__(self, request: ChatCompletionRequest, loop: asyncio.AbstractEventLoop) -> None:
        self.request = request
        self.assembler: TurnAssembler | None = None
        self.done = False
        self._cancel = threading.Event()
        self._loop = loop
        self._queue: asyncio.Queue[Item] = asyncio.Queue()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def put(self, item: Item) -> None:
        """From the worker thread: hand an item to the loop (dropped if the loop has shut down)."""
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:
            self._cancel.set()

    async def next(self) -> Item:
        item = await self._queue.get()
        if isinstance(item, Finished | Cancelled | APIError):
            self.done = True
        return item

    async def __aiter__(self) -> AsyncIterator[Item]:
        while not self.done:
            yield await self.next()


class ChatService:
    def __init__(self, engine: Engine, model_name: str) -> None:
        if engine.tokenizer is None:
            raise EngineError("the checkpoint ships no tokenizer; serving chat completions needs one")
        self.engine = engine
        self.tokenizer = engine.tokenizer
        self.model_name = model_name
        self.grammars = GrammarCompiler.from_tokenizer(self.tokenizer.hf, vocab_size=engine.config.vocab_size)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._jobs: set[Job] = set()
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished (the running one included)."""
        return len(self._jobs)

    def submit(self, request: ChatCompletionRequest) -> Job:
        job = Job(request, asyncio.get_running_loop())
        with self._lock:
            self._jobs.add(job)
        self._pool.submit(self._run, job)
        return job

    def close(self) -> None:
        """Stop the running generation at its next token and drop the queue (server shutdown)."""
        with self._lock:
            for job in self._jobs:
                job.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- worker thread -----------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        try:
            if job.cancelled:
                job.put(Cancelled())
                return
            try:
                prepared = self.prepare(job.request)
            except APIError as exc:
                job.put(exc)
                return
            except RecursionError:  # valid JSON nested deeper than rendering or grammar compiling can go
                job.put(
                    APIError(
                        400, "tool schemas or call arguments are nested too deeply", code="invalid_value"
                    )
                )
                return
            job.assembler = prepared.assembler
            job.put(Started(len(prepared.prompt_ids)))
            self._generate(job, prepared)
        except Exception as exc:  # the server must outlive any one request
            log.exception("generation failed")
            job.put(APIError(500, f"generation failed: {type(exc).__name__}: {exc}", code="engine_error"))
        finally:
            with self._lock:
                self._jobs.discard(job)

    def _generate(self, job: Job, prepared: Prepared) -> None:
        stream = self.engine.generate(
            prepared.prompt_ids, prepared.params, logits_processors=prepared.processors
        )
        assembler = prepared.assembler
        try:
            for item in stream:
                if job.cancelled:
                    job.put(Cancelled())
                    return
                if isinstance(item, GenerationResult):
                    stats = item.stats
                    tail = assembler.finish(truncated=stats.finish_reason == "length")
                    if tail:
                        job.put(tail)
                    job.put(Finished(stats, assembler.finish_reason(stats.finish_reason)))
                elif item.text:
                    deltas = assembler.feed(item.text)
                    if deltas:
                        job.put(deltas)
        finally:
            stream.close()

    def prepare(self, request: ChatCompletionRequest) -> Prepared:
        """Prompt ids, sampling parameters and grammar for `request`; APIError(400) for what cannot be served."""
        tools = [tool.to_openai() for tool in request.tools or []]
        thinking = request.enable_thinking
        try:
            prompt = self.tokenizer.encode_chat(
                [m.to_template() for m in request.messages], tools or None, enable_thinking=thinking
            )
        except (EngineError, TemplateError) as exc:
            raise APIError(400, f"messages: cannot render the conversation: {exc}", param="messages") from exc
        room = self.engine.cache.max_seq_len - len(prompt)
        if room < 1:
            raise APIError(
                400,
                f"the prompt has {len(prompt)} tokens and the context holds {self.engine.cache.max_seq_len}",
                param="messages",
                code="context_length_exceeded",
            )
        try:
            params = SamplingParams(
                temperature=request.temperature,
                top_p=request.top_p,
                top_k=request.top_k,
                max_new_tokens=min(request.max_new_tokens or room, room),
                stop=request.stop_list,
                seed=request.sampling_seed,
            )
        except ValueError as exc:
            raise APIError(400, str(exc)) from exc
        choice = request.effective_tool_choice
        parse_calls = bool(tools) and choice != "none"
        processors: list[LogitsProcessor] = []
        grammar = self._grammar(request, tools, choice, parse_calls)
        if grammar is not None:
            processors.append(GrammarLogitsProcessor(grammar))
        calls_only = parse_calls and choice == "required"
        assembler = TurnAssembler(tools, parse_calls, calls_only)
        if calls_only:
            processors.append(TurnEnd(assembler))
        return Prepared(prompt, params, processors, assembler)

    def _grammar(
        self, request: ChatCompletionRequest, tools: list[dict[str, Any]], choice: Any, parse_calls: bool
    ) -> xgr.CompiledGrammar | None:
        thinking = request.enable_thinking
        try:
            if request.json_mode:
                if parse_calls:
                    raise APIError(
                        400,
                        "response_format json_object/json_schema cannot be combined with tools unless "
                        "tool_choice is 'none'",
                        param="response_format",
                    )
                spec = request.response_format.json_schema if request.response_format else None
                return self.grammars.json_schema(spec.schema_ if spec else None, reasoning=thinking)
            if tools:
                options = GrammarOptions(
                    format="xml",
                    tool_choice=choice,
                    reasoning=thinking,
                    parallel_tool_calls=request.parallel_tool_calls,
                )
                return self.grammars.tool_calls(tools, options)
        except (GrammarError, ToolSpecError) as exc:  # e.g. a `$ref` that points nowhere in a tool's schema
            raise APIError(400, str(exc), param="response_format" if request.json_mode else "tools") from exc
        return None
