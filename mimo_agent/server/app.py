"""The ASGI app: `POST /v1/chat/completions`, `GET /v1/models`, `GET /health`, with OpenAI-style errors.

Bodies are read by hand (size-capped, then JSON, then the pydantic model) so every refusal is an OpenAI
error object with the right 4xx, and nothing a client sends can take the server down. A client that goes
away while its request waits or runs cancels it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from mimo_agent.server.errors import APIError, from_validation
from mimo_agent.server.responses import CompletionIds, completion_body, event_stream
from mimo_agent.server.schema import ChatCompletionRequest
from mimo_agent.server.service import ChatService, Job, Started

DEFAULT_MAX_BODY_BYTES = 8 * 2**20
DISCONNECT_POLL_SECONDS = 0.2


def create_app(
    service: ChatService, api_key: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        yield
        service.close()

    app = FastAPI(title="mimo-agent", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    created = int(time.time())

    @app.exception_handler(APIError)
    async def api_error(_: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = (
            f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405) else exc.detail
        )
        return JSONResponse(APIError(exc.status_code, str(message)).body(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> JSONResponse:
        body = APIError(500, f"internal error: {type(exc).__name__}: {exc}", code="internal_error").body()
        return JSONResponse(body, status_code=500)

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), api_key.encode()):
            raise APIError(
                401, "invalid API key: send it as 'Authorization: Bearer KEY'", code="invalid_api_key"
            )

    def model_card() -> dict[str, Any]:
        return {"id": service.model_name, "object": "model", "created": created, "owned_by": "mimo-agent"}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": service.model_name, "pending": service.pending}

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        authorize(request)
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id:path}")
    async def model(request: Request, model_id: str) -> dict[str, Any]:
        authorize(request)
        if model_id != service.model_name:
            raise _unknown_model(model_id, service.model_name)
        return model_card()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        authorize(request)
        body = await _read_body(request, max_body_bytes)
        chat = _parse_request(body)
        if chat.model != service.model_name:
            raise _unknown_model(chat.model, service.model_name)
        job = service.submit(chat)
        ids = CompletionIds(service.model_name)
        watcher = asyncio.create_task(_cancel_on_disconnect(request, job))
        try:
            first = await _guard(job, job.next())
            if not isinstance(first, Started):
                raise first if isinstance(first, APIError) else APIError(499, "the client closed the request")
            if chat.stream:
                include_usage = chat.stream_options is not None and chat.stream_options.include_usage
                stream = event_stream(job, ids, first.prompt_tokens, include_usage)
                return StreamingResponse(
                    stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
                )
            return JSONResponse(await _guard(job, completion_body(job, ids, first.prompt_tokens)))
        finally:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher

    return app


def _unknown_model(name: str, served: str) -> APIError:
    return APIError(
        404,
        f"model {name!r} is not served here; this server serves {served!r}",
        param="model",
        code="model_not_found",
    )


async def _guard(job: Job, work: Awaitable[Any]) -> Any:
    """Await `work`; if this handler is cancelled or fails, the job is cancelled with it."""
    try:
        return await work
    except BaseException:
        job.cancel()
        raise


async def _cancel_on_disconnect(request: Request, job: Job) -> None:
    """Until the response starts streaming (Starlette watches after that): a client gone cancels its job."""
    while not job.done:
        if await request.is_disconnected():
            job.cancel()
            return
        await asyncio.sleep(DISCONNECT_POLL_SECONDS)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    too_large = APIError(413, f"request body exceeds the {limit}-byte limit", code="request_too_large")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_request(body: bytes) -> ChatCompletionRequest:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise APIError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from exc
    except RecursionError as exc:  # e.g. 100 000 nested "[": the parser gives up before the body ends
        raise APIError(400, "request body is nested too deeply to parse", code="invalid_json") from exc
    if not isinstance(payload, dict):
        raise APIError(
            400, f"request body must be a JSON object, got {type(payload).__name__}", code="invalid_json"
        )
    try:
        return ChatCompletionRequest.model_validate(payload)
    except ValidationError as exc:
        raise from_validation(exc) from exc
