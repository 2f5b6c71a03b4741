"""Scheduled Lambda: submit queued jobs onto free account slots, then fail jobs stuck past their deadline."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mjapi.service.context import Context
from mjapi.service.jobs import dispatch_queued, reap

logger = Logger(service="mjapi-dispatcher")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    ctx = Context.current()
    reaped = reap(ctx)
    sent = dispatch_queued(ctx)
    logger.info("dispatcher run", extra={"reaped": reaped, "sent": sent})
    return {"reaped": reaped, "sent": sent}
