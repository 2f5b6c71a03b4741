"""What the OpenAPI document says beyond the routes themselves: how to authenticate (so Swagger's Authorize button
works) and the errors as the API really answers them (400 ``{code, message}``, not Powertools' default 422)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme


@cache
def security_schemes() -> dict[str, SecurityScheme]:
    """The ways to present credentials: an API token (Bearer header, ``token`` query parameter, or the
    midjourney-proxy ``mj-api-secret`` header) or the admin key (``x-admin-key`` header). Built on first use:
    Powertools' OpenAPI models take ~150 ms to import, and only the documentation routes need them."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    return {
        "bearerToken": HTTPBearer(description="An API token from create_token: Authorization: Bearer <token>"),
        "tokenQuery": APIKey(name="token", in_=APIKeyIn.query, description="The API token as ?token= (original API)"),
        "mjApiSecret": APIKey(
            name="mj-api-secret", in_=APIKeyIn.header, description="The API token (midjourney-proxy)"
        ),
        "adminKey": APIKey(name="x-admin-key", in_=APIKeyIn.header, description="The admin key from the secret"),
    }


TOKEN_OR_ADMIN: list[dict[str, list[str]]] = [
    {"bearerToken": []},
    {"tokenQuery": []},
    {"mjApiSecret": []},
    {"adminKey": []},
]
ADMIN_ONLY: list[dict[str, list[str]]] = [{"adminKey": []}]
PROXY_SECRET: list[dict[str, list[str]]] = [{"mjApiSecret": []}, {"bearerToken": []}]
NO_AUTH: list[dict[str, list[str]]] = [{}]

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable, e.g. invalid_prompt, queue_full"},
        "message": {"type": "string", "description": "for humans"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
}
_ERRORS = {
    "400": "Invalid input (code names the problem)",
    "401": "No valid API token (or admin key)",
    "404": "Not found (or not yours)",
    "429": "Queue full or rate limited",
}


def document_errors_and_auth(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace the generated 422 responses with the 400 ``{code, message}`` the API sends, add the other errors, and
    default every operation's security to the token schemes (admin routes declare ``ADMIN_ONLY`` themselves)."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in schema.get("paths", {}).items():
        proxy_face = path.startswith("/mj/")  # midjourney-proxy: business errors are codes inside an HTTP 200
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.pop("422", None)
            for status, description in _ERRORS.items():
                if not proxy_face or status == "401":
                    responses.setdefault(status, {"description": description, **ref})
            operation.setdefault("security", PROXY_SECRET if proxy_face else TOKEN_OR_ADMIN)
    return schema
