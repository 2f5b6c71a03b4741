"""The Swagger UI page (``/docs``), built when asked for. Powertools' ``enable_swagger`` imports its OpenAPI models
while the resolver is built, which every cold start would pay (~150 ms) for a page few requests ask for; this is the
same page (assets inlined, ``?format=json`` and ``?format=oauth2-redirect`` answered alike)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from aws_lambda_powertools.event_handler import Response


def swagger_response(spec_json: Callable[[], str], query: Mapping[str, str]) -> Response[str]:
    """``spec_json`` renders the OpenAPI document (only called when the answer needs it)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    if query.get("format") == "oauth2-redirect":
        return Response(status_code=200, content_type="text/html", body=swagger_ui.generate_oauth2_redirect_html())
    # Escaped so that the JSON, inlined in a <script>, cannot close the tag.
    spec = spec_json().replace("</", "<\\/")
    if query.get("format") == "json":
        return Response(status_code=200, content_type="application/json", body=spec)
    assets = Path(swagger_ui.__file__).parent
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    page = swagger_ui.generate_swagger_html(spec, js, css, "", None)
    return Response(status_code=200, content_type="text/html", body=page)
