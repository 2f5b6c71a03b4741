"""API Lambda: every HTTP route goes through one Powertools resolver (see mjapi.api)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mjapi.api.resolver import build_resolver, logger

app = build_resolver()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
