"""Discord-shaped REST errors: `{"code": ..., "message": ...}` plus `errors` for 50035 form errors."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def form_error(path: str, code: str, message: str) -> ApiError:
    """50035 Invalid Form Body with the error nested at a dotted path, e.g. `data.attachments.0.uploaded_filename`."""
    node: JSON = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        node = {part: node}
    return ApiError(400, 50035, "Invalid Form Body", node)


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


def unknown_channel() -> ApiError:
    return ApiError(404, 10003, "Unknown Channel")


def unknown_message() -> ApiError:
    return ApiError(404, 10008, "Unknown Message")


def unknown_guild() -> ApiError:
    return ApiError(404, 10004, "Unknown Guild")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def unknown_interaction() -> ApiError:
    return ApiError(404, 10062, "Unknown interaction")


def invalid_version() -> ApiError:
    return form_error(
        "data",
        "INTERACTION_APPLICATION_COMMAND_INVALID_VERSION",
        "This command is outdated, please try again in a few minutes",
    )


def invalid_command(message: str = "Invalid interaction application command") -> ApiError:
    return form_error("data", "INTERACTION_APPLICATION_COMMAND_INVALID", message)
