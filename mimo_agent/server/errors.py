"""OpenAI-style error bodies: `{"error": {"message", "type", "param", "code"}}` with the matching HTTP status."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    500: "server_error",
    503: "server_error",
}


class APIError(Exception):
    """A request the server refuses or cannot serve; the message names the field and what was expected."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": ERROR_TYPES.get(self.status, "invalid_request_error"),
                "param": self.param,
                "code": self.code,
            }
        }


def from_validation(exc: ValidationError) -> APIError:
    """The first pydantic error as a 400 naming the field path, e.g. `messages.1.role`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    got = first.get("input")
    shown = repr(got)[:80] if not isinstance(got, dict | list) else type(got).__name__
    return APIError(400, f"{where}: {first['msg']} (got {shown})", param=where, code="invalid_value")
