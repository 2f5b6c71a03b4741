"""Drive the real Lambda handler with API Gateway (REST, payload v1) events, as API Gateway would."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from devstack.lambda_adapter import LambdaContextStub, build_event, response_parts


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = f"----mjapi{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, ctype) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        parts.append(head + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class ApiClient:
    """Calls ``functions/api/app.lambda_handler`` in-process with real API Gateway events."""

    def __init__(self, handler: Any) -> None:
        self._handler = handler

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
        content_type: str | None = None,
    ) -> ApiResponse:
        hdrs = {"Host": "api.test", **(headers or {})}
        body = raw_body
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif content_type:
            hdrs["Content-Type"] = content_type
        qs = urlencode({k: str(v) for k, v in (query or {}).items() if v is not None})
        event = build_event(method, f"{path}?{qs}" if qs else path, hdrs, body)
        status, header_list, payload = response_parts(self._handler(event, LambdaContextStub(aws_request_id="t")))
        return ApiResponse(status=status, headers={k.lower(): v for k, v in header_list}, body=payload)

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("POST", path, **kwargs)


def unreachable_discord_handler(table: Any, monkeypatch: Any, admin_key: str) -> Any:
    """The real API handler over ``table`` with one connected account whose Discord answers nothing (sends fail at
    once, switches do not wait): for tests of the HTTP surface itself."""
    import importlib

    from mjapi.secrets import clear_secrets_cache, get_secrets
    from mjapi.store.accounts import set_session, sync_accounts

    accounts = [{"id": "x1", "token": "discord-token", "channel_id": "123", "mode": "fast"}]
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": admin_key, "accounts": accounts}))
    monkeypatch.setenv("MJAPI_DISCORD_API_BASE", "http://127.0.0.1:9/api/v9")  # nothing listens: fails fast
    monkeypatch.setenv("MJAPI_DISCORD_MAX_RETRIES", "0")
    monkeypatch.setenv("MJAPI_SWITCH_WAIT_SECONDS", "0")
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    set_session(table, "x1", "s" * 32)
    return importlib.import_module("functions.api.app").lambda_handler
