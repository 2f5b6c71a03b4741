"""The Powertools resolver: routes, OpenAPI, Swagger UI, and errors as ``{code, message}`` JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from mjapi import __version__
from mjapi.api import admin_routes, command_routes, midjourney_routes, proxy_routes, webhook_routes
from mjapi.api.openapi_doc import document_errors_and_auth, security_schemes
from mjapi.api.request_guard import RouteInfo, body_kind, check_request
from mjapi.api.request_state import ThreadSafeRestResolver
from mjapi.api.swagger import swagger_response
from mjapi.service.errors import ApiError
from mjapi.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

logger = Logger(service="mjapi")

TITLE = "mjapi"
DESCRIPTION = "Self-hostable Midjourney API over a pool of Discord accounts."


def _json(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "form")]
        details.append({"field": ".".join(loc) or None, "problem": err.get("msg", "invalid")})
    first = details[0] if details else {"field": None, "problem": "invalid request"}
    where = f"{first['field']}: " if first["field"] else ""
    return f"{where}{first['problem']}", details


_PATHS_REMEMBERED = 512


class GuardedResolver(ThreadSafeRestResolver):
    """Checks method, content type and body (``request_guard``) before Powertools parses anything. The request being
    resolved is per thread (``ThreadSafeRestResolver``), so one process may resolve several at once."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._paths_seen: dict[str, tuple[RouteInfo, ...]] = {}

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            routes = self._routes_for(str(event.get("path") or "/"))
            check_request(event, routes, max_body_bytes=get_settings().max_request_bytes)
        except ApiError as exc:
            return {
                "statusCode": exc.status,
                "headers": {"Content-Type": "application/json", **exc.headers},
                "body": json.dumps(exc.body()),
                "isBase64Encoded": False,
            }
        # Powertools' resolve() publishes the event on the BaseRouter class, where our properties never read it.
        event_data = cast(APIGatewayProxyEvent, self._to_proxy_event(dict(event)))
        with self.request_scope(event_data, context):
            return super().resolve(event, context)

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

        schema = super().get_openapi_schema(**kwargs)
        fixed = document_errors_and_auth(schema.model_dump(mode="json", by_alias=True, exclude_none=True))
        return OpenAPI.model_validate(fixed)

    def build_middleware_stacks(self) -> None:
        """Powertools builds a route's middleware stack on its first call, unguarded: two threads calling a route for
        the first time at once would wrap it twice. Build them all once, before any request."""
        for route in self._static_routes + self._dynamic_routes:
            if not route._middleware_stack_built:
                route._build_middleware_stack(router_middlewares=self._router_middlewares, app=self)

    def _routes_for(self, path: str) -> tuple[RouteInfo, ...]:
        """The routes of ``path``: matching every route's pattern is ~0.5 ms, a quarter of a warm read, so the
        answers for the first paths seen (ids in a path make each path new) are remembered."""
        known = self._paths_seen.get(path)
        if known is not None:
            return known
        routes = tuple(
            RouteInfo(method=route.method, body=body_kind(route.func))
            for route in self._static_routes + self._dynamic_routes
            if route.rule.match(path)
        )
        if len(self._paths_seen) < _PATHS_REMEMBERED:
            self._paths_seen[path] = routes
        return routes


def build_resolver() -> GuardedResolver:
    app = GuardedResolver(enable_validation=True)
    app.include_router(midjourney_routes.router)
    app.include_router(command_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(proxy_routes.router)

    def openapi_json(**kwargs: Any) -> str:
        return app.get_openapi_json_schema(
            title=TITLE, version=__version__, description=DESCRIPTION, security_schemes=security_schemes(), **kwargs
        )

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response[str]:
        from aws_lambda_powertools.event_handler.openapi.models import Server

        base = app._get_base_path() or "/"  # "/v1" behind a stage, "/" on a custom domain or locally
        query = app.current_event.query_string_parameters or {}
        return swagger_response(lambda: openapi_json(servers=[Server(url=base)]), query)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        return Response(status_code=200, content_type="application/json", body=openapi_json())

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.exception_handler(ApiError)  # type: ignore[untyped-decorator]
    def api_error(exc: ApiError) -> Response[str]:
        return Response(
            status_code=exc.status, content_type="application/json", body=json.dumps(exc.body()), headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def validation_error(exc: RequestValidationError) -> Response[str]:
        message, details = _describe_validation(list(exc.errors()))
        return _json(400, {"code": "invalid_request", "message": message, "details": details})

    @app.not_found
    def not_found(_: NotFoundError) -> Response[str]:
        return _json(404, {"code": "route_not_found", "message": "No such endpoint; see /docs."})

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return _json(500, {"code": "internal_error", "message": "Something went wrong on our side."})

    app.build_middleware_stacks()
    return app
