"""Errors that reach API clients: an HTTP status, a stable machine-readable code, and a message for humans."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """``extra`` goes into the JSON body; ``headers`` into the response (e.g. ``Allow``, ``Retry-After``)."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def bad_request(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(400, code, message, **extra)


def not_found(what: str = "job") -> ApiError:
    return ApiError(404, f"{what}_not_found", f"No such {what}.")


def unauthorized(
    message: str = "A valid API token is required (query parameter 'token' or Bearer header).",
) -> ApiError:
    return ApiError(401, "unauthorized", message)
