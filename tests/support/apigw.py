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
