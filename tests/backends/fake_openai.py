"""A scripted OpenAI-shaped HTTP server on a loopback port: each request gets the next reply; bodies are kept.

Streams use chunked transfer encoding, so a reply cut short (`cut_after`) looks to the client exactly like
a server that died mid-answer: the connection closes before the final chunk. A stalled reply
(`stall_after`) keeps the connection open and silent until the fake shuts down, like a hung server. A slow
reply (`delay`) waits between events; a client that hangs up meanwhile ends it quietly.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None  # a JSON answer (errors)
    events: list[dict[str, Any]] = field(default_factory=list)  # SSE data objects of a stream
    cut_after: int | None = None  # close the connection after this many events
    stall_after: int | None = None  # after this many events, send nothing more until shutdown
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before each event after the first


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [choice],
    }


def usage_chunk(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def error(status: int, message: str, code: str | None = None, **headers: str) -> Reply:
    return Reply(
        status, {"error": {"message": message, "type": "x", "param": None, "code": code}}, headers=headers
    )


class FakeOpenAI:
    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                fake.requests.append(json.loads(self.rfile.read(length)))
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                fake.answer(self, fake.replies.pop(0))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.body is not None:
            data = json.dumps(reply.body).encode()
            handler.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        lines = [f"data: {json.dumps(event)}\n\n" for event in reply.events] + ["data: [DONE]\n\n"]
        for index, line in enumerate(lines):
            if reply.stall_after is not None and index == reply.stall_after:
                handler.wfile.flush()
                handler.close_connection = True
                self._closing.wait()
                return
            if reply.cut_after is not None and index == reply.cut_after:
                handler.wfile.flush()
                handler.close_connection = True
                handler.connection.shutdown(2)
                return
            if reply.delay and index:
                handler.wfile.flush()
                time.sleep(reply.delay)
            data = line.encode()
            try:
                handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
                handler.close_connection = True
                return
        handler.wfile.write(b"0\r\n\r\n")

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
